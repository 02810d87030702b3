//! Lookup tables from Microsoft's FinOps open data (`data/open-data/`, compiled in): region names
//! and ids for the location texts legacy exports carry, and service names and categories for a
//! consumed service and resource type. Each lookup is a polars expression over text columns.

use std::collections::HashMap;
use std::sync::LazyLock;

use polars::prelude::*;

const REGIONS_CSV: &str = include_str!("../data/open-data/Regions.csv");
const SERVICES_CSV: &str = include_str!("../data/open-data/Services.csv");
const PRICING_UNITS_CSV: &str = include_str!("../data/open-data/PricingUnits.csv");
const RESOURCE_TYPES_CSV: &str = include_str!("../data/open-data/ResourceTypes.csv");

/// ARM resource type (lowercased) → display name (`Virtual machine`).
static RESOURCE_TYPES: LazyLock<HashMap<String, String>> = LazyLock::new(|| {
    rows(RESOURCE_TYPES_CSV)
        .filter_map(|r| match r.as_slice() {
            [rtype, name, ..] if !name.is_empty() => Some((rtype.to_lowercase(), name.clone())),
            _ => None,
        })
        .collect()
});

/// Unit of measure (as written, and lowercased) → (pricing block size, distinct unit).
static PRICING_UNITS: LazyLock<HashMap<String, (f64, String)>> = LazyLock::new(|| {
    let mut map = HashMap::new();
    for r in rows_untrimmed(PRICING_UNITS_CSV) {
        let [unit, _, block, distinct, ..] = r.as_slice() else {
            continue;
        };
        let Ok(block) = block.trim().parse::<f64>() else {
            continue;
        };
        let value = (block, distinct.trim().to_string());
        map.entry(unit.to_lowercase()).or_insert(value.clone());
        map.insert(unit.clone(), value);
    }
    map
});

fn pricing_unit(unit: &str) -> Option<&'static (f64, String)> {
    PRICING_UNITS
        .get(unit)
        .or_else(|| PRICING_UNITS.get(&unit.to_lowercase()))
}

/// Original location text (lowercased) → (RegionId, RegionName).
static REGIONS: LazyLock<HashMap<String, (String, String)>> = LazyLock::new(|| {
    rows(REGIONS_CSV)
        .filter_map(|r| match r.as_slice() {
            [original, id, name, ..] => Some((original.to_lowercase(), (id.clone(), name.clone()))),
            _ => None,
        })
        .collect()
});

/// A service's name, category and subcategory.
#[derive(Clone)]
struct Service {
    name: String,
    category: String,
    subcategory: String,
}

/// Services by (consumed service, resource type), by resource type alone and by consumed service
/// alone (the first row listed wins), all lowercased.
struct Services {
    by_both: HashMap<(String, String), Service>,
    by_type: HashMap<String, Service>,
    by_consumed: HashMap<String, Service>,
}

static SERVICES: LazyLock<Services> = LazyLock::new(|| {
    let mut s = Services {
        by_both: HashMap::new(),
        by_type: HashMap::new(),
        by_consumed: HashMap::new(),
    };
    for r in rows(SERVICES_CSV) {
        let [consumed, rtype, name, category, subcategory, ..] = r.as_slice() else {
            continue;
        };
        let service = Service {
            name: name.clone(),
            category: category.clone(),
            subcategory: subcategory.clone(),
        };
        let (consumed, rtype) = (consumed.to_lowercase(), rtype.to_lowercase());
        s.by_both
            .entry((consumed.clone(), rtype.clone()))
            .or_insert(service.clone());
        if !rtype.is_empty() {
            s.by_type.entry(rtype).or_insert(service.clone());
        }
        if !consumed.is_empty() {
            s.by_consumed.entry(consumed).or_insert(service);
        }
    }
    s
});

fn rows(text: &'static str) -> impl Iterator<Item = Vec<String>> {
    rows_untrimmed(text).map(|r| r.iter().map(|f| f.trim().to_string()).collect())
}

/// Rows as written: units of measure differ by a trailing space (`"1 "`).
fn rows_untrimmed(text: &'static str) -> impl Iterator<Item = Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes())
        .into_records()
        .filter_map(|r| r.ok())
        .map(|r| r.iter().map(str::to_string).collect())
}

/// `microsoft.compute/virtualmachines` from an ARM resource id (nested types joined with `/`).
pub fn resource_type(id: &str) -> Option<String> {
    let lower = id.to_lowercase();
    let at = lower.rfind("/providers/")?;
    let parts: Vec<&str> = lower[at + "/providers/".len()..]
        .split('/')
        .filter(|p| !p.is_empty())
        .collect();
    let (namespace, rest) = parts.split_first()?;
    let types: Vec<&str> = rest.iter().step_by(2).copied().collect();
    (!types.is_empty()).then(|| format!("{namespace}/{}", types.join("/")))
}

fn service(consumed: Option<&str>, id: Option<&str>) -> Option<&'static Service> {
    let consumed = consumed.map(str::to_lowercase).unwrap_or_default();
    let rtype = id.and_then(resource_type).unwrap_or_default();
    SERVICES
        .by_both
        .get(&(consumed.clone(), rtype.clone()))
        .or_else(|| SERVICES.by_type.get(&rtype))
        .or_else(|| SERVICES.by_consumed.get(&consumed))
}

/// Map one text column through `f`.
fn map_text(text: Expr, f: fn(&str) -> Option<String>) -> Expr {
    text.map(
        move |c: Column| {
            let values: StringChunked = c.str()?.iter().map(|v| v.and_then(f)).collect();
            Ok(values.with_name(c.name().clone()).into_column())
        },
        |_, field| Ok(Field::new(field.name().clone(), DataType::String)),
    )
}

/// Map two text columns (consumed service, resource id) through `f`.
fn map_service(consumed: Expr, id: Expr, f: fn(&Service) -> String) -> Expr {
    consumed.map_many(
        move |cols: &mut [Column]| {
            let (a, b) = (cols[0].str()?, cols[1].str()?);
            let values: StringChunked = a
                .iter()
                .zip(b.iter())
                .map(|(c, i)| service(c, i).map(f))
                .collect();
            Ok(values.with_name(cols[0].name().clone()).into_column())
        },
        &[id],
        |_, fields| Ok(Field::new(fields[0].name().clone(), DataType::String)),
    )
}

/// `RegionId` for a location text (`UK South`, `uksouth`, `EastUS2`), or the text lowercased
/// without spaces when the table does not know it.
pub fn region_id(location: Expr) -> Expr {
    map_text(location, |v| {
        let key = v.trim().to_lowercase();
        Some(
            REGIONS
                .get(&key)
                .map(|(id, _)| id.clone())
                .unwrap_or_else(|| key.replace(' ', "")),
        )
    })
}

/// `RegionName` for a location text, or the text as given.
pub fn region_name(location: Expr) -> Expr {
    map_text(location, |v| {
        Some(
            REGIONS
                .get(&v.trim().to_lowercase())
                .map(|(_, name)| name.clone())
                .unwrap_or_else(|| v.to_string()),
        )
    })
}

/// The pricing block size of a legacy unit of measure (`10K` → 10000); NULL when unknown.
pub fn pricing_block_size(unit: Expr) -> Expr {
    unit.map(
        |c: Column| {
            let values: Float64Chunked = c
                .str()?
                .iter()
                .map(|v| v.and_then(pricing_unit).map(|(block, _)| *block))
                .collect();
            Ok(values.with_name(c.name().clone()).into_column())
        },
        |_, field| Ok(Field::new(field.name().clone(), DataType::Float64)),
    )
}

/// The distinct unit of a legacy unit of measure (`10K` → `Units`), or the text as given.
pub fn distinct_unit(unit: Expr) -> Expr {
    map_text(unit, |v| {
        Some(
            pricing_unit(v)
                .map(|(_, distinct)| distinct.clone())
                .unwrap_or_else(|| v.to_string()),
        )
    })
}

/// The display name of a resource id's type (`Virtual machine`); NULL when unknown.
pub fn resource_type_name(resource_id: Expr) -> Expr {
    map_text(resource_id, |id| {
        resource_type(id).and_then(|t| RESOURCE_TYPES.get(&t).cloned())
    })
}

/// The ARM resource type of a resource id (`microsoft.compute/virtualmachines`).
pub fn arm_type(resource_id: Expr) -> Expr {
    map_text(resource_id, resource_type)
}

pub fn service_name(consumed: Expr, resource_id: Expr) -> Expr {
    map_service(consumed, resource_id, |s| s.name.clone())
}

pub fn service_category(consumed: Expr, resource_id: Expr) -> Expr {
    map_service(consumed, resource_id, |s| s.category.clone())
}

pub fn service_subcategory(consumed: Expr, resource_id: Expr) -> Expr {
    map_service(consumed, resource_id, |s| s.subcategory.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_regions_services_and_types() {
        assert_eq!(
            resource_type(
                "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1"
            ),
            Some("microsoft.compute/virtualmachines".into())
        );
        assert_eq!(
            resource_type(
                "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Sql/servers/a/databases/b"
            ),
            Some("microsoft.sql/servers/databases".into())
        );
        assert_eq!(resource_type("/subscriptions/s"), None);
        assert_eq!(REGIONS["uk south"].0, "uksouth");
        let vm = service(
            Some("Microsoft.Compute"),
            Some("/subscriptions/s/resourcegroups/rg/providers/microsoft.compute/disks/d"),
        )
        .unwrap();
        assert_eq!(
            (vm.name.as_str(), vm.category.as_str()),
            ("Virtual Machines", "Compute")
        );
    }
}
