//! Every command in the README's shell blocks, as far as it runs without a cluster: the
//! local renders run (as `cargo run -q --` would run them, from the repository root) and
//! exit 0 with the XR first; every file a `kubectl apply -f` names exists and reads as
//! Kubernetes objects. A command of another kind fails this test until it is taught here,
//! so a new README command is never silently left out.

use crate::common;

use std::process::Command;

/// The commands of the README's ```sh blocks: comments dropped, continuations joined.
fn readme_commands() -> Vec<String> {
    let text = std::fs::read_to_string(common::repo_path("README.md")).unwrap();
    let mut commands = Vec::new();
    let mut in_block = false;
    let mut pending = String::new();
    for line in text.lines() {
        if !in_block {
            in_block = line.trim() == "```sh";
            continue;
        }
        if line.trim() == "```" {
            in_block = false;
            continue;
        }
        let line = line.split(" #").next().unwrap().trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(part) => pending.push_str(part),
            None => {
                pending.push_str(line);
                commands.push(std::mem::take(&mut pending));
            }
        }
    }
    assert!(
        pending.is_empty(),
        "a README command ends in a continuation"
    );
    commands
}

#[test]
fn every_readme_command_that_runs_offline_runs() {
    let commands = readme_commands();
    let (mut renders, mut applied) = (0, 0);
    for command in &commands {
        let mut words: Vec<&str> = command.split_whitespace().collect();
        // `kubectl -n <namespace> <verb>` reads as `kubectl <verb>`.
        if words.len() > 3 && words[0] == "kubectl" && words[1] == "-n" {
            words.drain(1..3);
        }
        match words.as_slice() {
            ["cargo", "run", "-q", "--", "render", args @ ..] => {
                let out = Command::new(env!("CARGO_BIN_EXE_function-release-pipeline"))
                    .arg("render")
                    .args(args)
                    .current_dir(common::repo_path(""))
                    .env_remove("GITHUB_TOKEN")
                    .output()
                    .unwrap();
                let stdout = String::from_utf8_lossy(&out.stdout);
                assert!(
                    out.status.success(),
                    "{command}: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                let objects = common::yaml11::read(&stdout);
                assert!(
                    objects
                        .first()
                        .is_some_and(|o| o["kind"].as_str().is_some_and(|k| k.starts_with('X'))),
                    "{command}: the XR comes first"
                );
                renders += 1;
            }
            ["cargo", "test"] => {} // this very run
            ["kubectl", "apply", rest @ ..] => {
                let files: Vec<&str> = rest
                    .iter()
                    .zip(rest.iter().skip(1))
                    .filter(|(flag, _)| **flag == "-f")
                    .map(|(_, file)| *file)
                    .collect();
                assert!(!files.is_empty(), "{command}: names no file");
                for file in files {
                    let objects = common::read_yaml(common::repo_path(file));
                    assert!(!objects.is_empty(), "{file} holds no object");
                    for object in objects {
                        assert!(
                            object["apiVersion"].is_string() && object["kind"].is_string(),
                            "{file}: an object without apiVersion and kind"
                        );
                    }
                    applied += 1;
                }
            }
            // Reads and namespaces of a live cluster: nothing to run offline.
            ["kubectl", "get" | "create" | "describe", ..] => {}
            _ => panic!("README command not covered by this test: {command}"),
        }
    }
    assert!(renders >= 2, "{renders} renders in {commands:?}");
    assert!(applied >= 8, "{applied} applied files");
}
