//! `perfgate init`: a commented `perfgate.toml` (listing the sequence catalogs found under the
//! working directory) and a GitHub Actions workflow. Existing files are kept unless `--force`.

use std::path::Path;

use crate::error::Error;

const CONFIG: &str = include_str!("../config/perfgate.toml");
const WORKFLOW: &str = include_str!("../examples/workflows/perfgate.yml");

pub fn run(cwd: &Path, force: bool) -> Result<i32, Error> {
    let config_path = cwd.join("perfgate.toml");
    let workflow_path = cwd.join(".github/workflows/perfgate.yml");
    for p in [&config_path, &workflow_path] {
        if p.exists() && !force {
            return Err(Error::Usage(format!("{} exists; pass --force to overwrite it", p.display())));
        }
    }
    let catalogs = crate::attribute::catalog::Catalog::discover(cwd);
    let mut dirs: Vec<String> = catalogs
        .iter()
        .filter_map(|f| {
            let rel = f.strip_prefix(cwd).unwrap_or(f);
            let dir: Vec<String> = rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
            let at = dir.iter().position(|c| c == "json-sequences")?;
            Some(dir[..=at].join("/"))
        })
        .collect();
    dirs.sort();
    dirs.dedup();
    let listing = if dirs.is_empty() {
        "# No json-sequences directory was found under this directory.\n# paths = [\"packages\"]\n".to_owned()
    } else {
        // Directory names are text anyone can choose: each is one escaped TOML string (a quote or
        // a line break in a name stays inside its string, on its comment line).
        let list: Vec<String> = dirs.iter().map(|d| format!("#   {},", crate::render::escape::toml_string(d))).collect();
        format!("# Found by `perfgate init` (all of them are read by default):\n# paths = [\n{}\n# ]\n", list.join("\n"))
    };
    let config = CONFIG.replacen("# paths = [\"packages\"]\n", &listing, 1);
    crate::output::write(&config_path, config.as_bytes())?;
    crate::output::write(&workflow_path, WORKFLOW.as_bytes())?;
    println!(
        "wrote {} ({} catalog director{} found) and {}",
        config_path.display(),
        dirs.len(),
        if dirs.len() == 1 { "y" } else { "ies" },
        workflow_path.display()
    );
    println!("next: capture your app's logs into .logs/, run `perfgate update-baseline`, and commit .perfgate/baseline.json");
    Ok(0)
}
