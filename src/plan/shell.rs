//! Values in shell commands. A value never becomes part of a command's text: the shell receives each value
//! in an environment variable (`RIPCORD_VAR_REASON`, `RIPCORD_VAR_ENV_NAME`, ...) and the command holds a
//! *reference* to it, written for the quoting context the author put the `${...}` in. Analysis calls
//! [`slots`] to reject the contexts where no reference can work; the interpreter and `run --dry-run` call
//! [`script`] and [`Bindings::shell_env`].
//!
//! The lexer follows POSIX `sh` quoting: single and double quotes, backslashes, `$(...)` and backticks
//! (each a new unquoted context), `$((...))`, comments, and here-documents (quoted or not, `<<-` too).
//! It only has to know the context at each `${...}`; it never runs or rewrites the author's text.
//!
//! INVARIANT: a reference expands to the value as one inert string: `"${RIPCORD_VAR_X}"` unquoted,
//! `${RIPCORD_VAR_X}` inside double quotes or an unquoted here-document. The shell never re-reads the
//! result of a parameter expansion as code, so no byte of a value can run.

use super::template::{Bindings, Template, TemplatePart, Variable};

/// Where a `${...}` falls in a shell command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShellSlot {
    /// Unquoted (also inside `$(...)`, backticks, comments): the reference is written `"${RIPCORD_VAR_X}"`.
    Bare,
    /// Inside double quotes or an unquoted here-document body: the reference is written `${RIPCORD_VAR_X}`.
    Quoted,
    /// Where a reference cannot work: analysis rejects the runbook.
    Unusable(Unusable),
}

/// The contexts where a value cannot be referenced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unusable {
    /// Inside `'...'`, where the shell expands nothing.
    SingleQuotes,
    /// Inside a here-document whose delimiter is quoted (`<<'EOF'`), which expands nothing.
    QuotedHeredoc,
    /// Right after a backslash, which would escape the reference's `$` or quote.
    Escaped,
    /// In a here-document's delimiter word.
    HeredocDelimiter,
    /// Inside `$((...))`, where some shells evaluate a value's text as an expression.
    Arithmetic,
}

impl Unusable {
    /// Where the `${...}` is, in words.
    pub fn place(self) -> &'static str {
        match self {
            Unusable::SingleQuotes => "inside single quotes",
            Unusable::QuotedHeredoc => "inside a quoted here-document",
            Unusable::Escaped => "right after a backslash",
            Unusable::HeredocDelimiter => "in a here-document's delimiter",
            Unusable::Arithmetic => "inside `$((...))`",
        }
    }

    /// How to write it so that it works.
    pub fn fix(self) -> &'static str {
        match self {
            Unusable::SingleQuotes => {
                "the shell expands nothing inside '...': close the single quotes around the value, as in 'abc'\"${reason}\"'def'"
            }
            Unusable::QuotedHeredoc => {
                "a here-document with a quoted delimiter (<<'EOF') expands nothing: unquote the delimiter (<<EOF) and escape the body's other `$` as `\\$`"
            }
            Unusable::Escaped => "remove the backslash before the value",
            Unusable::HeredocDelimiter => "write the here-document's delimiter out",
            Unusable::Arithmetic => {
                "arithmetic reads a value as an expression, which some shells run as code; let a program take it as data, as in awk -v n=\"${value}\" 'BEGIN { print n + 1 }'"
            }
        }
    }
}

/// The environment variable that carries `variable`'s value to a shell step.
pub fn env_name(variable: &Variable) -> String {
    match variable {
        Variable::Env(name) => format!("RIPCORD_VAR_ENV_{name}"),
        Variable::Label(name) => format!("RIPCORD_VAR_LABEL_{name}"),
        other => format!("RIPCORD_VAR_{}", other.to_string().to_ascii_uppercase()),
    }
}

/// The command as the shell runs it: each `${...}` replaced by a reference to its environment variable,
/// written for its context. The values themselves are in [`Bindings::shell_env`].
pub fn script(command: &Template) -> String {
    let slots = slots(command);
    let mut out = String::new();
    let mut vars = 0;
    for part in &command.parts {
        match part {
            TemplatePart::Text(t) => out.push_str(t),
            TemplatePart::Var(v) => {
                let name = env_name(v);
                match slots.get(vars) {
                    Some(ShellSlot::Bare) => out.push_str(&format!("\"${{{name}}}\"")),
                    // An unusable slot never reaches a plan; the bare reference is still inert text there.
                    _ => out.push_str(&format!("${{{name}}}")),
                }
                vars += 1;
            }
        }
    }
    out
}

impl Bindings {
    /// The environment a shell step needs for `command`'s references: one variable per `${...}` it holds,
    /// with the value (empty when the variable has none), in the order they appear, without repeats.
    pub fn shell_env(&self, command: &Template) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for part in &command.parts {
            if let TemplatePart::Var(v) = part {
                let name = env_name(v);
                if !out.iter().any(|(n, _)| *n == name) {
                    out.push((name, self.get(v).unwrap_or_default()));
                }
            }
        }
        out
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Ctx {
    Bare,
    Single,
    Double,
    Backtick,
    /// `$(...)`, with the depth of plain parentheses inside it.
    Command(u32),
    /// `$((...))`, with the depth of parentheses still open (starts at 2).
    Arith(u32),
    Comment,
    Heredoc(Heredoc),
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Heredoc {
    word: String,
    quoted: bool,
    strip_tabs: bool,
}

enum Item {
    Ch(char),
    Var,
}

/// The context of each `${...}` of `command`, in order.
pub fn slots(command: &Template) -> Vec<ShellSlot> {
    let mut items = Vec::new();
    for part in &command.parts {
        match part {
            TemplatePart::Text(t) => items.extend(t.chars().map(Item::Ch)),
            TemplatePart::Var(_) => items.push(Item::Var),
        }
    }
    Lexer::default().run(&items)
}

#[derive(Default)]
struct Lexer {
    stack: Vec<Ctx>,
    /// Here-documents whose bodies start at the next newline.
    pending: Vec<Heredoc>,
    /// The delimiter word being read: (word, quoted, strip tabs).
    word: Option<Heredoc>,
    /// The current line of a here-document body.
    line: String,
    /// The previous character in an unquoted context (for comments and `<<`).
    prev: Option<char>,
}

impl Lexer {
    fn top(&self) -> &Ctx {
        self.stack.last().unwrap_or(&Ctx::Bare)
    }

    fn run(mut self, items: &[Item]) -> Vec<ShellSlot> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < items.len() {
            let c = match &items[i] {
                Item::Var => {
                    out.push(self.slot());
                    self.prev = Some('x');
                    if let Some(w) = self.word.as_mut() {
                        w.word.push('\u{0}');
                    }
                    i += 1;
                    continue;
                }
                Item::Ch(c) => *c,
            };
            let next = |k: usize| match items.get(i + k) {
                Some(Item::Ch(c)) => Some(*c),
                _ => None,
            };
            i += self.step(c, next(1), next(2), items.get(i + 1).is_some_and(|it| matches!(it, Item::Var)), &mut out);
        }
        out
    }

    fn slot(&self) -> ShellSlot {
        if self.word.is_some() {
            return ShellSlot::Unusable(Unusable::HeredocDelimiter);
        }
        match self.top() {
            Ctx::Bare | Ctx::Backtick | Ctx::Command(_) | Ctx::Comment => ShellSlot::Bare,
            Ctx::Double => ShellSlot::Quoted,
            Ctx::Heredoc(h) if !h.quoted => ShellSlot::Quoted,
            Ctx::Heredoc(_) => ShellSlot::Unusable(Unusable::QuotedHeredoc),
            Ctx::Single => ShellSlot::Unusable(Unusable::SingleQuotes),
            Ctx::Arith(_) => ShellSlot::Unusable(Unusable::Arithmetic),
        }
    }

    /// Handles one character; returns how many characters it consumed. `var_next` says a `${...}` follows.
    fn step(&mut self, c: char, n1: Option<char>, n2: Option<char>, var_next: bool, out: &mut Vec<ShellSlot>) -> usize {
        if self.word.is_some() {
            return self.delimiter(c, n1, var_next, out);
        }
        let top = self.top().clone();
        match top {
            Ctx::Single => {
                if c == '\'' {
                    self.stack.pop();
                }
                1
            }
            Ctx::Comment => {
                if c == '\n' {
                    self.stack.pop();
                    self.newline();
                }
                1
            }
            Ctx::Double => match c {
                '"' => {
                    self.stack.pop();
                    1
                }
                '\\' => self.escape(var_next, out),
                '$' | '`' => self.expansion(c, n1, n2),
                _ => 1,
            },
            Ctx::Heredoc(h) => self.heredoc_char(c, n1, n2, var_next, &h, out),
            Ctx::Arith(depth) => {
                match c {
                    '(' => self.set_top(Ctx::Arith(depth + 1)),
                    ')' if depth <= 1 => {
                        self.stack.pop();
                    }
                    ')' => self.set_top(Ctx::Arith(depth - 1)),
                    _ => {}
                }
                1
            }
            Ctx::Bare | Ctx::Backtick | Ctx::Command(_) => self.unquoted(c, n1, n2, var_next, out),
        }
    }

    fn set_top(&mut self, ctx: Ctx) {
        if let Some(t) = self.stack.last_mut() {
            *t = ctx;
        }
    }

    /// A backslash and what it escapes (two items). When that is a `${...}`, its slot is given here.
    fn escape(&mut self, var_next: bool, out: &mut Vec<ShellSlot>) -> usize {
        if var_next {
            out.push(ShellSlot::Unusable(Unusable::Escaped));
        }
        2
    }

    /// `$(`, `$((` or a backtick: a new context. Any other `$` is one character.
    fn expansion(&mut self, c: char, n1: Option<char>, n2: Option<char>) -> usize {
        match (c, n1, n2) {
            ('$', Some('('), Some('(')) => {
                self.stack.push(Ctx::Arith(2));
                3
            }
            ('$', Some('('), _) => {
                self.stack.push(Ctx::Command(0));
                2
            }
            ('`', _, _) => {
                self.stack.push(Ctx::Backtick);
                1
            }
            _ => 1,
        }
    }

    fn unquoted(
        &mut self,
        c: char,
        n1: Option<char>,
        n2: Option<char>,
        var_next: bool,
        out: &mut Vec<ShellSlot>,
    ) -> usize {
        let at_word_start = self.prev.is_none_or(|p| p.is_whitespace() || ";&|()<>".contains(p));
        let used = match c {
            '\\' => self.escape(var_next, out),
            '\'' => {
                self.stack.push(Ctx::Single);
                1
            }
            '"' => {
                self.stack.push(Ctx::Double);
                1
            }
            '`' if *self.top() == Ctx::Backtick => {
                self.stack.pop();
                1
            }
            '$' | '`' => self.expansion(c, n1, n2),
            '#' if at_word_start => {
                self.stack.push(Ctx::Comment);
                1
            }
            '(' => {
                if let Ctx::Command(d) = *self.top() {
                    self.set_top(Ctx::Command(d + 1));
                }
                1
            }
            ')' => {
                match *self.top() {
                    Ctx::Command(0) => {
                        self.stack.pop();
                    }
                    Ctx::Command(d) => self.set_top(Ctx::Command(d - 1)),
                    _ => {}
                }
                1
            }
            // `<<<` (a here-string in some shells) is no here-document.
            '<' if n1 == Some('<') && n2 == Some('<') => 3,
            '<' if n1 == Some('<') => {
                let strip_tabs = n2 == Some('-');
                self.word = Some(Heredoc { word: String::new(), quoted: false, strip_tabs });
                if strip_tabs { 3 } else { 2 }
            }
            '\n' => {
                self.newline();
                1
            }
            _ => 1,
        };
        self.prev = Some(c);
        used
    }

    /// A newline in an unquoted context: the first pending here-document's body starts.
    fn newline(&mut self) {
        if !self.pending.is_empty() {
            let h = self.pending.remove(0);
            self.line.clear();
            self.stack.push(Ctx::Heredoc(h));
        }
        self.prev = None;
    }

    /// One character of a here-document's delimiter word (after `<<` and any blanks).
    fn delimiter(&mut self, c: char, n1: Option<char>, var_next: bool, out: &mut Vec<ShellSlot>) -> usize {
        let Some(word) = self.word.as_mut() else { return 1 };
        let ends = c.is_whitespace() || ";&|()<>".contains(c);
        if ends && (!word.word.is_empty() || word.quoted || c == '\n') {
            let done = self.word.take();
            if let Some(h) = done {
                self.pending.push(h);
            }
            // The character that ended the word is read as usual.
            return self.unquoted(c, n1, None, var_next, out);
        }
        if ends {
            return 1;
        }
        match c {
            '\'' | '"' => word.quoted = true,
            '\\' => {
                word.quoted = true;
                if let Some(n) = n1 {
                    word.word.push(n);
                    return 2;
                }
            }
            _ => word.word.push(c),
        }
        1
    }

    fn heredoc_char(
        &mut self,
        c: char,
        n1: Option<char>,
        n2: Option<char>,
        var_next: bool,
        h: &Heredoc,
        out: &mut Vec<ShellSlot>,
    ) -> usize {
        if c == '\n' {
            let line = if h.strip_tabs { self.line.trim_start_matches('\t') } else { self.line.as_str() };
            let ends = line == h.word;
            self.line.clear();
            if ends {
                self.stack.pop();
                // The next pending here-document starts right after this one.
                if !self.pending.is_empty() {
                    let next = self.pending.remove(0);
                    self.stack.push(Ctx::Heredoc(next));
                }
                self.prev = None;
            }
            return 1;
        }
        self.line.push(c);
        if h.quoted {
            return 1;
        }
        match c {
            '\\' => {
                if let Some(n) = n1 {
                    self.line.push(n);
                }
                self.escape(var_next, out)
            }
            '$' | '`' => self.expansion(c, n1, n2),
            _ => 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(parts: &[&str]) -> Template {
        // Every `@` is a `${reason}`.
        let mut out = Vec::new();
        for p in parts {
            if *p == "@" {
                out.push(TemplatePart::Var(Variable::Reason));
            } else {
                out.push(TemplatePart::Text((*p).to_string()));
            }
        }
        Template { parts: out }
    }

    use ShellSlot::{Bare, Quoted};
    use Unusable as U;
    #[allow(non_snake_case)]
    fn Unusable(u: U) -> ShellSlot {
        ShellSlot::Unusable(u)
    }

    #[test]
    fn contexts_are_found() {
        assert_eq!(slots(&t(&["echo ", "@"])), [Bare]);
        assert_eq!(slots(&t(&["logger \"reason: ", "@", "\""])), [Quoted]);
        assert_eq!(slots(&t(&["echo '", "@", "'"])), [Unusable(U::SingleQuotes)]);
        assert_eq!(slots(&t(&["echo 'a'\"", "@", "\"'b'"])), [Quoted]);
        assert_eq!(slots(&t(&["echo \"$(printf %s ", "@", ")\""])), [Bare]);
        assert_eq!(slots(&t(&["echo `printf %s ", "@", "`"])), [Bare]);
        assert_eq!(slots(&t(&["cat <<EOF\nhi ", "@", "\nEOF\necho ", "@"])), [Quoted, Bare]);
        assert_eq!(slots(&t(&["cat <<'EOF'\nhi ", "@", "\nEOF\n"])), [Unusable(U::QuotedHeredoc)]);
        assert_eq!(
            slots(&t(&["cat <<-\"EOF\"\n\thi ", "@", "\n\tEOF\necho ", "@"])),
            [Unusable(U::QuotedHeredoc), Bare]
        );
        assert_eq!(slots(&t(&["echo \\", "@"])), [Unusable(U::Escaped)]);
        assert_eq!(slots(&t(&["echo $((", "@", " + 1))"])), [Unusable(U::Arithmetic)]);
        assert_eq!(slots(&t(&["echo $((1)) ", "@"])), [Bare]);
        assert_eq!(slots(&t(&["echo it\\'s ", "@"])), [Bare]);
        assert_eq!(slots(&t(&["echo # it's ", "@", "\necho ", "@"])), [Bare, Bare]);
        assert_eq!(slots(&t(&["echo a#b'", "@", "'"])), [Unusable(U::SingleQuotes)]);
        assert_eq!(slots(&t(&["cat <<< x; echo ", "@"])), [Bare]);
    }

    #[test]
    fn scripts_hold_references_only() {
        let cmd = t(&["logger \"reason: ", "@", "\" ", "@"]);
        assert_eq!(script(&cmd), "logger \"reason: ${RIPCORD_VAR_REASON}\" \"${RIPCORD_VAR_REASON}\"");
        let b = Bindings { reason: Some("$(id)".into()), ..Bindings::default() };
        assert_eq!(b.shell_env(&cmd), [("RIPCORD_VAR_REASON".to_string(), "$(id)".to_string())]);
        assert_eq!(env_name(&Variable::Env("TOKEN".into())), "RIPCORD_VAR_ENV_TOKEN");
        assert_eq!(env_name(&Variable::RunId), "RIPCORD_VAR_RUN_ID");
    }
}
