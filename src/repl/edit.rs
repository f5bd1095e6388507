//! `:edit`: the message written in the user's editor (`$VISUAL`, else `$EDITOR`, else `vi`, as
//! POSIX `crontab -e` and git choose it) through a private temporary file that never outlives
//! the command. Handing the terminal over is the editor module's part ([`super::editor::Ui`]).

use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// The draft of a message on disk: `message.eml` (0600) in a directory of its own (0700) under
/// the temporary directory, so the editor's swap and backup files stay private too. Removed,
/// with whatever the editor left there, when dropped: after sending, on an error, and when a
/// signal ends the REPL while the editor runs (the future holding it is dropped).
pub(crate) struct Draft {
    dir: PathBuf,
    file: PathBuf,
}

impl Draft {
    /// Create the directory and the file, holding `template`.
    pub(crate) fn create(template: &[u8]) -> std::io::Result<Draft> {
        use std::io::Write;
        let base = std::env::temp_dir();
        let mut tries = 0;
        let dir = loop {
            let unique: String = crate::net::tls::scram_nonce()
                .unwrap_or_default()
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .take(12)
                .collect();
            let dir = base.join(format!("ehlo-edit-{}-{unique}", std::process::id()));
            // Created, not reused: a directory someone else made is never written into.
            match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
                Ok(()) => break dir,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && tries < 16 => {
                    tries += 1;
                }
                Err(e) => return Err(e),
            }
        };
        let draft = Draft {
            file: dir.join("message.eml"),
            dir,
        };
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&draft.file)?;
        f.write_all(template)?;
        Ok(draft)
    }

    /// The file the editor opens.
    pub(crate) fn path(&self) -> &Path {
        &self.file
    }
}

impl Drop for Draft {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The editor to run: `$VISUAL`, else `$EDITOR` (set and not empty), else `vi`.
pub(crate) fn editor_command() -> String {
    ["VISUAL", "EDITOR"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|e| !e.trim().is_empty()))
        .unwrap_or_else(|| "vi".to_string())
}

/// Run `editor` on `file` on the terminal and wait for it. The command goes through `sh -c`
/// as git runs it, so `EDITOR="code --wait"` works; the file is passed as an argument, never
/// pasted into the command. The editor is killed if the wait is dropped (the REPL ending on a
/// signal). It gets the core-dump limit ehlo started with ([`crate::coredump::command`]).
pub(crate) async fn run_editor(
    editor: &str,
    file: &Path,
) -> std::io::Result<std::process::ExitStatus> {
    crate::coredump::command("/bin/sh")
        .arg("-c")
        .arg(format!("{editor} \"$@\""))
        .arg(editor)
        .arg(file)
        .kill_on_drop(true)
        .status()
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_draft_is_private_and_removed() {
        let d = Draft::create(b"Subject: x\n\n").unwrap();
        let (dir, file) = (d.dir.clone(), d.path().to_path_buf());
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&file), 0o600);
        assert_eq!(std::fs::read(&file).unwrap(), b"Subject: x\n\n");
        // What an editor leaves beside it goes too.
        std::fs::write(dir.join(".message.eml.swp"), b"swap").unwrap();
        drop(d);
        assert!(!dir.exists());
    }
}
