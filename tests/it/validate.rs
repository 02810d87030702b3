//! `validate` reports configuration and rule errors with the file and the key or column, exit 2.

use crate::support::{Workspace, copy_dir, repo};

#[test]
fn repository_config_pipelines_and_rules_are_valid() {
    let ws = Workspace::new();
    let example = repo().join("config/cloudoptima.example.toml");
    let out = ws
        .cmd(&["--config", example.to_str().unwrap(), "validate"])
        .env("CLOUDOPTIMA_SMTP_USERNAME", "u")
        .env("CLOUDOPTIMA_SMTP_PASSWORD", "p")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("Everything is valid."), "{text}");
}

#[test]
fn misspelt_config_key_exits_2_naming_file_and_key() {
    let ws = Workspace::new();
    let cfg = ws.path().join("bad.toml");
    std::fs::write(
        &cfg,
        "[lake]\nurl = \"./lake\"\n\n[outptu]\nreports_dir = \"r\"\n",
    )
    .unwrap();
    let out = ws.run(&["--config", cfg.to_str().unwrap(), "validate"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("bad.toml")
            && text.contains("outptu")
            && text.contains("did you mean `output`"),
        "{text}"
    );
    assert!(text.contains("line 4"), "{text}");
}

#[test]
fn rule_with_unknown_column_exits_2_naming_file_and_column() {
    let mut ws = Workspace::new();
    let rules = ws.path().join("rules");
    copy_dir(&repo().join("sql/rules"), &rules);
    let broken = std::fs::read_to_string(rules.join("storage_disk_unattached.sql"))
        .unwrap()
        .replace("d.disk_state", "d.disk_stat");
    std::fs::write(rules.join("storage_disk_unattached.sql"), broken).unwrap();
    ws.rules = rules;
    let out = ws.run(&["validate"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("storage_disk_unattached.sql") && text.contains("disk_stat"),
        "{text}"
    );
    assert!(text.contains("1 problem(s) found."), "{text}");
}

#[test]
fn pipeline_with_unknown_rule_and_param_is_rejected_with_suggestions() {
    let ws = Workspace::with_pipelines(&[(
        "p.toml",
        "name = \"p\"\n[rules]\nselect = [\"compute_vm_idel\"]\n[rules.params.compute_vm_idle]\ncpu_treshold_pct = 3\n\
         [rules.params.governance_cost_untagged]\nrequired_tags = \"costcenter\"\nmax_untagged_pct = \"ten\"\n",
    )]);
    let out = ws.run(&["validate"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("did you mean `compute_vm_idle`"), "{text}");
    assert!(text.contains("did you mean `cpu_threshold_pct`"), "{text}");
    // Overrides of the wrong kind are listed with the others, saying what the param takes.
    assert!(
        text.contains("rules.params.governance_cost_untagged: param `required_tags` takes a list (default [\"costcenter\"]), not a string \"costcenter\""),
        "{text}"
    );
    assert!(
        text.contains(
            "param `max_untagged_pct` takes a number (default 10.0), not a string \"ten\""
        ),
        "{text}"
    );
    assert!(text.contains("4 problem(s) found."), "{text}");
}

#[test]
fn the_real_tenant_example_is_valid_and_a_literal_secret_is_not() {
    let mut ws = Workspace::new();
    ws.pipelines = repo().join("pipelines/examples");
    let example = repo().join("config/cloudoptima.example.toml");
    let out = ws
        .cmd(&["--config", example.to_str().unwrap(), "validate"])
        .env("CLOUDOPTIMA_SMTP_USERNAME", "u")
        .env("CLOUDOPTIMA_SMTP_PASSWORD", "p")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("1 pipeline(s)"), "{text}");

    let cfg = ws.path().join("secret.toml");
    std::fs::write(&cfg, "[azure]\nclient_secret = \"s3cr3t-value\"\n").unwrap();
    let out = ws.run(&["--config", cfg.to_str().unwrap(), "validate"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("azure.client_secret: secrets are not read from files"),
        "{text}"
    );
    assert!(text.contains("${AZURE_CLIENT_SECRET}"), "{text}");
    assert!(
        !text.contains("s3cr3t"),
        "the secret is never echoed: {text}"
    );

    let pipelines = ws.path().join("p");
    std::fs::create_dir_all(&pipelines).unwrap();
    std::fs::write(
        pipelines.join("x.toml"),
        "name = \"x\"\n[[sources]]\nkind = \"azure_cost_query\"\nscopes = [\"subscriptions/1\"]\n\
         [[sources]]\nkind = \"azure_exports\"\nlocation = \".\"\n[sources.manage]\n\
         storage_account = \"a\"\ncontainer = \"c\"\n",
    )
    .unwrap();
    ws.pipelines = pipelines;
    let out = ws.run(&["validate"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("scope `subscriptions/1` should start with"),
        "{text}"
    );
    assert!(text.contains("`manage` needs `scope`"), "{text}");
}

/// `run` exits 2 before any stage when the settings are wrong, naming the file (or flag) and the
/// key; the lake, the reports and the outbox stay untouched.
fn refused_before_any_stage(ws: &Workspace, args: &[&str], names: &[&str]) {
    let out = ws.run(args);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    for name in names {
        assert!(stderr.contains(name), "`{name}` not named:\n{stderr}");
    }
    assert!(!stdout.contains("[ok"), "a stage ran:\n{stdout}");
    for left in ["lake", "out"] {
        assert!(!ws.path().join(left).exists(), "{left}/ was written");
    }
}

#[test]
fn a_missing_pipelines_folder_is_an_error_not_the_demo() {
    let mut ws = Workspace::new();
    ws.pipelines = ws.path().join("pipelnes");
    refused_before_any_stage(
        &ws,
        &["run", "--as-of", "2026-03-15"],
        &["--pipelines", "pipelnes", "does not exist"],
    );
}

#[test]
fn an_invalid_schedule_time_zone_or_recipient_stops_the_run_before_any_stage() {
    let cases: &[(&str, &[&str])] = &[
        (
            "name = \"daily\"\nschedule = \"every full moon\"\n",
            &["daily.toml", "line 2", "schedule", "every full moon"],
        ),
        (
            "name = \"daily\"\nschedule = \"0 0 6 * * *\"\ntimezone = \"Mars/Olympus\"\n",
            &["daily.toml", "line 3", "timezone", "Mars/Olympus"],
        ),
        (
            "name = \"daily\"\n[report]\nrecipients = [\"finops@contoso.com\", \"cfo at contoso\"]\n",
            &["daily.toml", "line 3", "recipients", "cfo at contoso"],
        ),
    ];
    for (text, names) in cases {
        let ws = Workspace::with_pipelines(&[("daily.toml", text)]);
        refused_before_any_stage(&ws, &["run", "--as-of", "2026-03-15"], names);
        let out = ws.run(&["validate"]);
        assert_eq!(out.status.code(), Some(2), "validate passed {text}");
    }
}

#[test]
fn an_invalid_sender_stops_the_run_before_any_stage() {
    let ws = Workspace::new();
    let cfg = ws.path().join("cloudoptima.toml");
    std::fs::write(&cfg, "[smtp]\nhost = \"localhost\"\nfrom = \"finops\"\n").unwrap();
    refused_before_any_stage(
        &ws,
        &[
            "--config",
            cfg.to_str().unwrap(),
            "run",
            "--as-of",
            "2026-03-15",
        ],
        &["cloudoptima.toml", "line 3", "from", "not an email address"],
    );
}

#[test]
fn validate_show_prints_the_effective_settings_without_secrets() {
    let ws = Workspace::new();
    let cfg = ws.path().join("cloudoptima.toml");
    std::fs::write(
        &cfg,
        "[smtp]\nhost = \"smtp.contoso.com\"\nfrom = \"FinOps <finops@contoso.com>\"\npassword = \"${CO_TEST_SMTP_PW}\"\n",
    )
    .unwrap();
    let out = ws
        .cmd(&["--config", cfg.to_str().unwrap(), "validate", "--show"])
        .env("CO_TEST_SMTP_PW", "s3cr3t-value")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("smtp.contoso.com") && text.contains("daily"),
        "{text}"
    );
    assert!(
        text.contains("CO_TEST_SMTP_PW") && text.contains("***"),
        "{text}"
    );
    assert!(!text.contains("s3cr3t-value"), "secret shown:\n{text}");
}
