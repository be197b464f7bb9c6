//! Writing files so that a reader never sees a torn one: write a temporary file in the same
//! directory, flush it to disk, then rename it over the target (atomic on POSIX file systems).
//! On any failure the temporary file is removed and the target is left as it was.

use std::io::Write;
use std::path::Path;

use crate::error::Error;

pub fn write(path: &Path, contents: &[u8]) -> Result<(), Error> {
    let err = |source| Error::Write { path: path.to_path_buf(), source };
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(err)?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.perfgate-tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(contents)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(err(e));
    }
    Ok(())
}
