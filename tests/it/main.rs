//! The one integration-test binary. Each module drives the real `cloudoptima` binary in a temporary
//! folder and checks what a user would see, against independent components where users meet one.
//!
//! - `alerts`: the demo's planted anomalies and budget found with their causes; alerts to Teams-,
//!   Slack- and webhook-shaped HTTP servers and SMTP, retried, reported, never sent twice; `validate`
//!   naming bad routes and budgets;
//! - `ask`: questions in plain language against a scripted OpenAI-compatible server (the SQL shown,
//!   run read-only, a broken query repaired once, destructive ones refused), the question-set
//!   harness's accuracy, and `mcp` through the Python MCP client;
//! - `architecture`: the module dependency rule (no stage imports another stage);
//! - `azure_api`: every Azure source against the Azure API emulator, which enforces the APIs'
//!   documented limits (happy paths, paging, faults, throttling pausing an API, failed scopes left as
//!   they were, incremental metrics with late hours, cost details reports, `check` failing exactly
//!   what the run fails);
//! - `browser`: headless Chromium renders the HTML report to a screenshot that is not blank;
//! - `daemon`: two pipelines on second-level schedules: on their ticks, never overlapping (a
//!   concurrent `run` refused by the lease), skipped ticks logged, `/metrics` parsed by Prometheus'
//!   parser, SIGTERM mid-run within the grace period, a restart going on;
//! - `export`: hive-partitioned exports read back by DuckDB (disk, and Azurite through the Azure
//!   SDK) equal the Delta tables after runs and a vacuum, awkward partition values included;
//! - `cost_exports`: Cost Management exports (EA/MCA legacy, every export schema, gzip CSV and
//!   Parquet with manifests from disk and Azurite, overlapping month-to-date runs);
//! - `findings`: findings across runs (remembered, snoozed, dismissed, resolved);
//! - `focus_files`: FOCUS files from any provider, on disk or in object storage; messy and damaged
//!   input quarantined by line, unreadable files named, reconciliation against the source, FOCUS 1.2
//!   columns and allowed values, `strict`;
//! - `lake_azure`: the lake on Azure Blob storage (Azurite) gives the same tables as on local disk;
//! - `owned_writes`: runs racing on a new lake, a run stalled past its lease, pipelines sharing a
//!   date, read-only commands, the binary alone in an empty folder;
//! - `pipeline`: the demo pipeline end to end (lake tables, planted waste, PDF, outbox, re-runs,
//!   DuckDB reading the Delta files, read-only SQL);
//! - `report`: a tenant billed in two currencies (no figure mixes them); the LLM summary against a
//!   scripted OpenAI-compatible server (used when every number checks, else the deterministic one
//!   with the reason);
//! - `retention`: replaced files kept for the retention period, then vacuumed, after which a plain
//!   Parquet reader counts each row once; unchanged files not landed twice; a held lease refusing a
//!   run; what a killed run left removed by the next;
//! - `rules_slt`: each rule's sqllogictest file (findings and non-findings) passes;
//! - `serve`: psql and pg8000 over TLS and SCRAM list the tables and answer as `cloudoptima sql`;
//!   DDL, COPY and a wrong password refused;
//! - `smtp`: delivery to a real SMTP server over TCP (aiosmtpd);
//! - `sql_surface`: FOCUS use-case-style SQL against DuckDB on the same files; memory and time
//!   limits;
//! - `validate`: configuration and rule errors reported with file and key.

mod alerts;
mod architecture;
mod ask;
mod azure_api;
mod browser;
mod cost_exports;
mod daemon;
mod export;
mod findings;
mod focus_files;
mod lake_azure;
mod owned_writes;
mod pipeline;
mod report;
mod retention;
mod rules_slt;
mod serve;
mod smtp;
mod sql_surface;
mod support;
mod validate;
