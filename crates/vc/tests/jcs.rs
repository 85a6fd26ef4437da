//! RFC 8785 (JSON Canonicalization Scheme) examples, §3.2.2 and §3.2.3, on the crate that
//! eddsa-jcs-2022 uses (serde_json_canonicalizer, pinned).

fn jcs(input: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(input).expect("JSON");
    serde_json_canonicalizer::to_string(&v).expect("canonicalizes")
}

#[test]
fn rfc8785_serialization_example() {
    let input = r#"{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
        "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/", "literals": [null, true, false]}"#;
    let expected = "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],\"string\":\"€$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}";
    assert_eq!(jcs(input), expected);
}

#[test]
fn rfc8785_sorting_is_by_utf16_code_units() {
    let input = r#"{"\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One", "\ud83d\ude00": "Emoji: Grinning Face", "\u0080": "Control", "\u00f6": "Latin Small Letter O With Diaeresis"}"#;
    let out = jcs(input);
    let expected = [
        "\r",
        "1",
        "\u{80}",
        "\u{f6}",
        "\u{20ac}",
        "\u{1f600}",
        "\u{fb33}",
    ];
    let mut positions: Vec<(usize, &str)> = expected
        .iter()
        .map(|k| {
            (
                out.find(&serde_json::to_string(k).expect("key"))
                    .expect("key present"),
                *k,
            )
        })
        .collect();
    positions.sort();
    assert_eq!(
        positions.into_iter().map(|(_, k)| k).collect::<Vec<_>>(),
        expected,
        "{out}"
    );
}

#[test]
fn rfc8785_numbers() {
    for (input, expected) in [
        ("-0", "0"),
        ("1e21", "1e+21"),
        ("1e20", "100000000000000000000"),
        ("0.000001", "0.000001"),
        ("1e-7", "1e-7"),
        ("9007199254740992", "9007199254740992"),
        ("-1.5e-300", "-1.5e-300"),
    ] {
        assert_eq!(jcs(input), expected, "{input}");
    }
}

#[test]
fn integers_beyond_2_pow_53_are_rounded_like_es6() {
    // Why SkillCredential refuses integers above 2^53 - 1 (validate::safe_integer).
    assert_eq!(jcs("9007199254740993"), "9007199254740992");
}
