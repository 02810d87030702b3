//! Report: queries in `sql/report/` build a plain [`model::ReportModel`]; [`pdf`] renders it;
//! [`delivery`] sends it by SMTP or drops an `.eml` into the outbox.

pub mod delivery;
pub mod model;
pub mod pdf;
