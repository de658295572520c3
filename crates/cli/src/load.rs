//! Reading input paths: files, or directories walked recursively for `*.yaml`, `*.yml` and
//! `*.json` (sorted, so output is deterministic). The only IO in the CLI besides printing.

use std::fs;
use std::path::{Path, PathBuf};

use engine::Source;

/// Why an input path could not be read (exit status 2).
#[derive(Debug)]
pub struct LoadError {
    pub path: PathBuf,
    pub message: String,
}

pub fn load_paths(paths: &[PathBuf]) -> Result<Vec<Source>, LoadError> {
    let mut files = Vec::new();
    for path in paths {
        collect(path, &mut files, true)?;
    }
    if files.is_empty() {
        return Err(LoadError {
            path: paths.first().cloned().unwrap_or_default(),
            message: "contains no `*.yaml`, `*.yml` or `*.json` file".into(),
        });
    }
    let mut sources = Vec::with_capacity(files.len());
    for file in files {
        let bytes = fs::read(&file).map_err(|e| LoadError {
            path: file.clone(),
            message: io_message(&e),
        })?;
        // Invalid UTF-8 is replaced, not fatal: the YAML layer then reports what it cannot read.
        let text = String::from_utf8_lossy(&bytes).into_owned();
        sources.push(Source::new(file.display().to_string(), text));
    }
    Ok(sources)
}

fn collect(path: &Path, out: &mut Vec<PathBuf>, explicit: bool) -> Result<(), LoadError> {
    let meta = fs::metadata(path).map_err(|e| LoadError {
        path: path.to_path_buf(),
        message: io_message(&e),
    })?;
    if meta.is_dir() {
        let mut entries: Vec<PathBuf> = fs::read_dir(path)
            .map_err(|e| LoadError {
                path: path.to_path_buf(),
                message: io_message(&e),
            })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for entry in entries {
            collect(&entry, out, false)?;
        }
    } else if explicit || is_manifest(path) {
        // A file named on the command line is read whatever its extension.
        out.push(path.to_path_buf());
    }
    Ok(())
}

/// An IO error in the house voice: lowercase, `does not exist` for a missing path.
pub fn io_message(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "does not exist".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => {
            let s = e.to_string();
            let mut c = s.chars();
            match c.next() {
                Some(first) => first.to_lowercase().chain(c).collect(),
                None => s,
            }
        }
    }
}

fn is_manifest(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml" | "json")
    )
}
