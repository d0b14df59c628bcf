//! The generated JSON Schema and registry docs: canonical, complete, tree-specific.

use serde_json::Value;

use crate::policy::actions::ACTIONS;
use crate::policy::{policy_json_schema, registry_json, registry_markdown, Tree, FIELDS};

fn consts(v: &Value) -> Vec<String> {
    v["anyOf"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|x| x["const"].as_str().map(String::from))
        .collect()
}

#[test]
fn schema_is_canonical_and_deterministic() {
    let s = policy_json_schema();
    assert_eq!(s, policy_json_schema());
    assert!(s.ends_with("}\n") && !s.ends_with("\n\n"));
    let v: Value = serde_json::from_str(&s).unwrap();
    let again = serde_json::to_string_pretty(&v).unwrap() + "\n";
    assert_eq!(s, again, "sorted keys, two-space indent");
    assert_eq!(v["$schema"], "https://json-schema.org/draft/2020-12/schema");
    assert!(s.contains("\n  \"$defs\": {"));
}

#[test]
fn schema_has_one_definition_per_tree() {
    let v: Value = serde_json::from_str(&policy_json_schema()).unwrap();
    let defs = &v["$defs"];
    let payment = consts(&defs["payment_field"]);
    let bank = consts(&defs["bank_field"]);
    assert!(payment.contains(&"amount".to_string()) && !bank.contains(&"amount".to_string()));
    assert!(
        bank.contains(&"credit_limit".to_string()),
        "aliases are listed"
    );
    assert_eq!(
        payment.len(),
        FIELDS.iter().map(|f| 1 + f.aliases.len()).sum::<usize>()
    );
    let pattern = defs["bank_field"]["anyOf"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()["pattern"]
        .clone();
    assert_eq!(pattern, "^bank_state_[A-Za-z0-9_]{1,64}$");
    for tree in Tree::ALL {
        let key = format!("{}_node", tree.json_name().trim_end_matches("_tree"));
        let alts = defs[&key]["oneOf"].as_array().unwrap();
        let names: Vec<&str> = alts
            .iter()
            .filter_map(|a| a["properties"]["action"]["const"].as_str())
            .collect();
        let want: Vec<&str> = ACTIONS
            .iter()
            .filter(|a| a.trees.contains(tree))
            .map(|a| a.name)
            .collect();
        assert_eq!(names, want, "{key}");
        assert_eq!(
            v["properties"][tree.json_name()]["oneOf"][1]["$ref"],
            format!("#/$defs/{key}")
        );
    }
    let split = defs["payment_node"]["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["properties"]["action"]["const"] == "Split")
        .unwrap()
        .clone();
    assert_eq!(
        split["properties"]["parameters"]["required"],
        serde_json::json!(["num_splits"])
    );
    assert_eq!(v["$defs"]["parameter"]["oneOf"][0]["type"], "number");
}

#[test]
fn registry_docs_filter_by_tree_and_section() {
    let all: Value = serde_json::from_str(&registry_json(None, None)).unwrap();
    let keys: Vec<&String> = all.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "actions",
            "computations",
            "expressions",
            "fields",
            "limits",
            "nodes",
            "trees",
            "values"
        ]
    );
    assert_eq!(all["limits"]["tree_depth"], 100);
    // Every registered field, plus the entry documenting state registers.
    assert_eq!(all["fields"].as_array().unwrap().len(), FIELDS.len() + 1);
    let bank: Value =
        serde_json::from_str(&registry_json(Some(Tree::Bank), Some("fields"))).unwrap();
    let names: Vec<&str> = bank["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert!(!names.contains(&"amount") && names.contains(&"balance"));
    let acts: Value =
        serde_json::from_str(&registry_json(Some(Tree::Bank), Some("actions"))).unwrap();
    assert_eq!(acts["actions"].as_array().unwrap().len(), 4);
    assert_eq!(registry_json(None, None), registry_json(None, None));
    let md = registry_markdown(Some(Tree::Payment), None);
    assert!(md.contains("## Fields") && md.contains("| amount |"));
    assert!(md.contains("### `Release`") && !md.contains("### `NoAction`"));
    let md = registry_markdown(None, Some("computations"));
    assert!(md.contains("| div0 |") && !md.contains("## Fields"));
}
