//! Reading a Resource Graph response (`{"data": [...]}`, `resultFormat = objectArray`): one set of
//! rules for the transform (the `resources` table) and for the sources that work per resource
//! (metrics, prices), so both see the same ids, types and regions.

use serde_json::Value;

/// The rows of a Resource Graph response, or why the bytes are not one.
pub fn rows(bytes: &[u8]) -> Result<Vec<Value>, String> {
    let body: Value =
        serde_json::from_slice(bytes).map_err(|e| format!("not a Resource Graph response: {e}"))?;
    match body.get("data") {
        Some(Value::Array(rows)) => Ok(rows.clone()),
        _ => Err("no `data` array in Resource Graph response".into()),
    }
}

/// The text at `path` in `row`: a non-empty string, or a number as text.
pub fn text(row: &Value, path: &[&str]) -> Option<String> {
    let mut cur = row;
    for p in path {
        cur = cur.get(*p)?;
    }
    match cur {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The row's resource id, lowercased (ids are compared in lowercase everywhere).
pub fn id(row: &Value) -> Option<String> {
    lower(text(row, &["id"]))
}

/// The row's resource type, lowercased (`microsoft.compute/virtualmachines`).
pub fn resource_type(row: &Value) -> Option<String> {
    lower(text(row, &["type"]))
}

/// The row's subscription id, lowercased.
pub fn subscription(row: &Value) -> Option<String> {
    lower(text(row, &["subscriptionId"]))
}

/// The row's region name, lowercased (`westeurope`).
pub fn region(row: &Value) -> Option<String> {
    lower(text(row, &["location"]))
}

/// A VM's size as Azure spells it (`Standard_D2s_v3`).
pub fn vm_size(row: &Value) -> Option<String> {
    text(row, &["properties", "hardwareProfile", "vmSize"])
}

fn lower(v: Option<String>) -> Option<String> {
    v.map(|s| s.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_gives_its_rows_and_anything_else_says_why_not() {
        let page = br#"{"totalRecords": 1, "data": [{"id": "/subscriptions/S/resourceGroups/RG/providers/Microsoft.Compute/virtualMachines/VM1", "type": "Microsoft.Compute/virtualMachines", "location": "WestEurope", "subscriptionId": "S", "properties": {"hardwareProfile": {"vmSize": "Standard_D2s_v3"}}}]}"#;
        let rows = rows(page).unwrap();
        assert_eq!(
            id(&rows[0]).as_deref(),
            Some(
                "/subscriptions/s/resourcegroups/rg/providers/microsoft.compute/virtualmachines/vm1"
            )
        );
        assert_eq!(region(&rows[0]).as_deref(), Some("westeurope"));
        assert_eq!(vm_size(&rows[0]).as_deref(), Some("Standard_D2s_v3"));
        assert!(
            super::rows(br#"{"value": []}"#)
                .unwrap_err()
                .contains("no `data` array")
        );
        assert!(
            super::rows(b"<html>")
                .unwrap_err()
                .contains("not a Resource Graph response")
        );
    }
}
