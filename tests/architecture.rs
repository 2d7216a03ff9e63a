//! The layering written in ARCHITECTURE.md holds: every `crate::` path in `src/` (outside test modules and
//! comments) names a module in a lower layer than the file's own, or the crate root's own items.

mod support;

use std::collections::BTreeMap;
use std::path::Path;

/// Module name -> layer number (1 is the top), from the table between the `layers` markers.
fn layers() -> BTreeMap<String, u32> {
    let doc = std::fs::read_to_string(support::root().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let start = doc.find("<!-- layers:start -->").expect("a layers:start marker");
    let end = doc.find("<!-- layers:end -->").expect("a layers:end marker");
    let mut out = BTreeMap::new();
    for line in doc[start..end].lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).filter(|c| !c.is_empty()).collect();
        let [layer, modules] = cells[..] else { continue };
        let Ok(layer) = layer.parse::<u32>() else { continue };
        for m in modules.split(',') {
            assert!(out.insert(m.trim().to_string(), layer).is_none(), "`{m}` is in two layers");
        }
    }
    assert!(out.len() > 10, "the layers table reads as {out:?}");
    out
}

/// The source without comments, string contents and `#[cfg(test)]` items (a test module may use anything).
fn code_of(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("#[cfg(test)]") {
            // Skip the item that follows: up to its balanced closing brace (or its `;`).
            let mut depth = 0i32;
            let mut opened = false;
            for next in lines.by_ref() {
                let code = next.split("//").next().unwrap_or("");
                depth += code.matches('{').count() as i32 - code.matches('}').count() as i32;
                opened |= code.contains('{');
                if (opened && depth <= 0) || (!opened && code.trim_end().ends_with(';')) {
                    break;
                }
            }
            continue;
        }
        let code = match line.find("//") {
            Some(i) if !line[..i].contains('"') => &line[..i],
            _ => line,
        };
        out.push_str(code);
        out.push('\n');
    }
    out
}

/// The top-level module a file under `src/` belongs to (`src/watch/api.rs` -> `watch`), or `None` for the
/// crate root and `main.rs`.
fn module_of(rel: &Path) -> Option<String> {
    let first = rel.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(name, "lib" | "main")).then(|| name.to_string())
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            // `src/<module>/tests/` folders hold unit-test modules.
            if path.file_name().is_some_and(|n| n != "tests") {
                rust_files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_module_imports_its_own_layer_or_above() {
    let layers = layers();
    let src = support::root().join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut unplaced = Vec::new();
    let mut upward = Vec::new();
    let mut checked = 0;
    for path in &files {
        let rel = path.strip_prefix(&src).expect("under src");
        let Some(module) = module_of(rel) else { continue };
        let Some(&own) = layers.get(&module) else {
            unplaced.push(module);
            continue;
        };
        let code = code_of(&std::fs::read_to_string(path).expect("read"));
        for (i, _) in code.match_indices("crate::") {
            let name: String = code[i + 7..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if name == module {
                continue;
            }
            checked += 1;
            match layers.get(&name) {
                Some(&layer) if layer > own => {}
                Some(&layer) => {
                    upward.push(format!("{} (layer {own}) uses `crate::{name}` (layer {layer})", rel.display()))
                }
                // The crate root's own item.
                None if name == "source_text" => {}
                None => unplaced.push(name),
            }
        }
    }
    unplaced.sort();
    unplaced.dedup();
    assert!(unplaced.is_empty(), "modules missing from ARCHITECTURE.md's layers table: {unplaced:?}");
    assert!(upward.is_empty(), "imports that run up the layering:\n{}", upward.join("\n"));
    assert!(checked > 100, "only {checked} crate paths were read");
}

#[test]
fn every_module_is_in_the_layers_table() {
    let layers = layers();
    let lib = std::fs::read_to_string(support::root().join("src/lib.rs")).expect("lib.rs");
    let declared: Vec<&str> = lib
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod ").or_else(|| l.trim().strip_prefix("mod ")))
        .map(|m| m.trim_end_matches(';'))
        .collect();
    assert!(declared.len() > 10, "{declared:?}");
    let missing: Vec<&&str> = declared.iter().filter(|m| !layers.contains_key(**m)).collect();
    assert!(missing.is_empty(), "in lib.rs but not in ARCHITECTURE.md's layers table: {missing:?}");
}
