//! The one registry of diagnostic codes.
//!
//! INVARIANT: a code, once published, keeps its meaning forever. Never reuse or renumber a code; retire it by
//! leaving its line here with a note. Ranges: RC0xx reading and syntax, RC1xx names and references,
//! RC2xx values and types, RC3xx levels and steps, RC4xx simulation input.
//!
//! RC8xx are lint codes: they are owned by `src/lint/registry.rs` (one table mapping each code to its rule),
//! not by this enum, so never give a `Code` here a number in that range. `tests/lint.rs` checks that the two
//! registries never share a code.

use super::Severity;

macro_rules! codes {
    ($( $variant:ident = $code:literal, $severity:ident, $summary:literal; )*) => {
        /// A stable diagnostic code. `as_str` is what users see and what `--format json` prints.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code { $( $variant, )* }

        impl Code {
            pub const ALL: &'static [Code] = &[ $( Code::$variant, )* ];

            pub fn as_str(self) -> &'static str {
                match self { $( Code::$variant => $code, )* }
            }

            /// One line saying what the code means, for docs/language.md.
            pub fn summary(self) -> &'static str {
                match self { $( Code::$variant => $summary, )* }
            }

            pub fn severity(self) -> Severity {
                match self { $( Code::$variant => Severity::$severity, )* }
            }
        }
    };
}

codes! {
    // Reading and syntax.
    Syntax              = "RC001", Error, "the text does not follow the grammar";
    FileTooLarge        = "RC002", Error, "the file is larger than 8 MiB";
    NestingTooDeep      = "RC003", Error, "parentheses or braces nest more than 64 deep";
    LineTooLong         = "RC004", Error, "a line is longer than 64 KiB";
    InvalidEscape       = "RC005", Error, "a string uses an escape the language does not define";
    UnterminatedString  = "RC006", Error, "a string is not closed on its line";
    EmptyFile           = "RC007", Error, "the file holds no runbook";
    ExpressionTooLarge  = "RC008", Error, "an expression has more than 1,000 operators";
    NotUtf8             = "RC009", Error, "the file is not valid UTF-8";
    Unreadable          = "RC010", Error, "the file cannot be read";
    NoRunbooks          = "RC011", Error, "a directory given holds no `*.runbook` file";

    // Names and references.
    DuplicateSetting    = "RC101", Error, "a runbook setting (description, owner, evaluate every, files under) is given twice";
    DuplicateMetric     = "RC102", Error, "two metrics have the same name";
    DuplicateChannel    = "RC103", Error, "two channels have the same name";
    DuplicateTrigger    = "RC104", Error, "two triggers have the same name";
    DuplicateLevel      = "RC105", Error, "two levels have the same number";
    DuplicateOption     = "RC106", Error, "a level option is given twice";
    DuplicateModifier   = "RC107", Error, "a step modifier is given twice";
    UnknownLevel        = "RC110", Error, "a trigger targets a level that is not declared";
    EscalationMissing   = "RC111", Error, "`on failure escalate` names a level that is not declared";
    EscalationCycle     = "RC112", Error, "levels escalate to each other in a cycle";
    UnknownChannel      = "RC113", Error, "a notification names a channel that is not declared";
    UnknownFunction     = "RC114", Error, "a condition calls a function the language does not have";
    ArgumentCount       = "RC115", Error, "a function is called with the wrong number of arguments";
    ArgumentNotMetric   = "RC116", Error, "a window function's series argument is not a metric name";
    UnknownStepKind     = "RC117", Error, "a step kind the language does not have";
    UnknownVariable     = "RC118", Error, "an interpolation names a variable that does not exist";
    InterpolationNotAllowed = "RC119", Error, "interpolation is used where the value must be known before a run";
    MetricLooksMistyped = "RC120", Warning, "an undeclared metric is one typo away from a declared one";
    ChannelReserved     = "RC121", Error, "a channel is declared with the built-in name `log`";
    DuplicateMatchingLabel = "RC122", Error, "a label is named twice in `on(...)` or `ignoring(...)`";
    DuplicateTriggerAttribute = "RC123", Error, "a trigger's `alert`, `labels` or `annotations` is given twice";
    DuplicateAlertLabel = "RC124", Error, "a trigger's `labels { }` or `annotations { }` gives one name twice";
    InvalidAlertName    = "RC125", Error, "an `alert` name is not a Prometheus alert name";
    ReservedLabelName   = "RC126", Error, "a trigger's label is named `alertname` or starts with `__`";

    // Values and types.
    InvalidDuration     = "RC201", Error, "a duration has a fraction, or its units are out of order";
    NegativeValue       = "RC202", Error, "a duration or count is negative";
    ExpectedDuration    = "RC203", Error, "a duration belongs here, and something else was written";
    ExpectedNumber      = "RC204", Error, "a number belongs here, and a duration or percentage was written";
    ExpectedWholeNumber = "RC205", Error, "a whole number belongs here";
    OutOfRange          = "RC206", Error, "a value is outside the range it may take";
    NotACondition       = "RC207", Error, "a trigger or verify needs a comparison, and a value was written";
    ChainedComparison   = "RC208", Error, "comparisons do not chain";
    OperandType         = "RC209", Error, "an operator is applied to the wrong kind of operand";
    HoldNotMultiple     = "RC210", Warning, "a `for` duration is not a multiple of the evaluation interval";
    OffsetNotAllowed    = "RC211", Error, "`offset` is written after something that is not a metric or window function";
    MatchingOnNumber    = "RC212", Error, "`on(...)` or `ignoring(...)` is written next to a number, which has no labels";
    MatchingOnNot       = "RC213", Error, "`on(...)` or `ignoring(...)` is written next to `not ...`, which has no labels";
    QueryShapeUnknown   = "RC214", Warning, "a metric's query could not be read to work out the labels of its series";
    NeverMatch          = "RC215", Error, "the two sides of an operator have labels that never match";
    ManyToOne           = "RC216", Error, "one-to-one matching meets several series of one side in one match";
    OfLastOrder         = "RC217", Error, "`for N of M` asks for more true evaluations than its window holds (N > M)";
    OfLastZero          = "RC218", Error, "`for N of M` with N or M zero";
    OfLastTooLong       = "RC219", Error, "`for N of M` with a window M longer than 128 evaluations";
    ClearImplied        = "RC220", Error, "a `clear when` holds whenever the trigger's condition does, so it clears on the wrong side";
    ClearNeverTrue      = "RC221", Error, "a `clear when` can hold only while the trigger's condition does, so the trigger never clears";
    NoDataWithoutMetric = "RC222", Warning, "`on no data` on a trigger whose condition reads no metric";
    ClearNeverMatches   = "RC223", Error, "a `clear when`'s series have other labels than the condition's, so none of them clears a firing series";

    // Levels and steps.
    EmptyLevel          = "RC301", Error, "a level has no steps";
    EmptyParallel       = "RC302", Error, "a `parallel` block has no steps";
    FileOutsideRoots    = "RC303", Error, "a file step touches a path outside the `files under` roots";
    NoFileRoots         = "RC304", Error, "a file step is used and the runbook declares no `files under` roots";
    RelativePath        = "RC305", Error, "a file path or root is not absolute";
    ModifierNotAllowed  = "RC306", Error, "a modifier does not apply to this kind of step";
    UnknownMethod       = "RC307", Error, "an HTTP method that does not exist";
    BadUrl              = "RC308", Error, "a URL that is not http:// or https://";
    EmptyCommand        = "RC309", Error, "a shell command, URL or path is empty";
    SelfEscalation      = "RC310", Error, "a level escalates to itself";
    NulByte             = "RC311", Error, "a string holds a NUL byte";
    UnsafeInterpolation = "RC315", Error, "a value is interpolated where it could not stay a value (inside shell single quotes, a URL's host)";
    ConsecutiveZero     = "RC316", Error, "`for 0 consecutive` on a verify step";

    // Simulation input.
    SeriesSyntax        = "RC401", Error, "a series file cannot be read as CSV, JSON Lines or promtool YAML";
    SeriesOrder         = "RC402", Error, "a series has timestamps out of order or repeated";
    SeriesValue         = "RC403", Error, "a sample value is not a number";
    SeriesUnknownMetric = "RC404", Error, "a trigger reads a metric the series file does not have";
    SeriesTime          = "RC405", Error, "a time is neither seconds nor RFC 3339";
    SimulationArgument  = "RC406", Error, "a simulation option names a step or level the plan does not have";
    SimulationRange     = "RC407", Error, "the simulated range is empty or reversed (`--start` not before `--end`)";
    TooManyEvaluations  = "RC408", Error, "the simulated range needs more than 100 million evaluations";
    TimeOutOfRange      = "RC409", Error, "a simulated time is beyond the year 9999";
    ChartRange          = "RC410", Error, "the chart cannot draw values this far apart";
    SeriesStreamOrder   = "RC411", Error, "a long series file is not in time order across series";
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_and_well_formed() {
        let mut seen = HashSet::new();
        for code in Code::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "code {s} is used twice");
            assert!(s.len() == 5 && s.starts_with("RC"), "code {s} is not RCnnn");
            assert!(!code.summary().is_empty());
        }
    }
}
