//! W3C Trace Context: parsing and formatting against the spec's examples and rules,
//! propagation through `http::HeaderMap`, and the current trace through hookrt tasks.

use hookrt_observe::trace_context::{
    self, extract, extract_with, inject, inject_context, Extracted, ParseError, SpanId,
    TraceContext, TraceFlags, TraceId, TraceState, TRACE_CONTEXT,
};
use http::HeaderMap;

/// The spec's example trace id and parent id.
const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN: &str = "00f067aa0ba902b7";

fn valid(flags: &str) -> String {
    format!("00-{TRACE}-{SPAN}-{flags}")
}

/// Parses `header` (no tracestate) and compares with `expected`; a valid header must
/// also format back to itself, or to the version 00 form for a later version.
fn check(header: &str, expected: Result<&str, ParseError>) {
    let parsed = TraceContext::parse(header.as_bytes(), None);
    match (parsed, expected) {
        (Ok(ctx), Ok(formatted)) => {
            assert_eq!(ctx.traceparent(), formatted, "{header:?}");
            assert_eq!(TraceContext::parse(formatted.as_bytes(), None), Ok(ctx));
        }
        (Err(e), Err(want)) => {
            assert_eq!(e, want, "{header:?}");
            assert!(!e.to_string().is_empty());
        }
        (got, want) => panic!("{header:?}: got {got:?}, want {want:?}"),
    }
}

#[test]
fn trace_context_spec_examples_round_trip() {
    for flags in ["01", "00"] {
        let header = valid(flags);
        check(&header, Ok(&header));
        let ctx = TraceContext::parse(header.as_bytes(), None).unwrap();
        assert_eq!(ctx.trace_id.to_string(), TRACE);
        assert_eq!(ctx.span_id, SpanId::from_hex(SPAN.as_bytes()).unwrap());
        assert_eq!(ctx.is_sampled(), flags == "01");
    }
    // Unknown flag bits are kept as received; sampled is a mask, not the byte.
    check(&valid("09"), Ok(&valid("09")));
    assert!(TraceContext::parse(valid("09").as_bytes(), None)
        .unwrap()
        .flags
        .is_sampled());
    // Optional whitespace around the value is not part of it.
    check(&format!(" \t{}\t ", valid("01")), Ok(&valid("01")));
}

#[test]
fn trace_context_rejects_case_and_characters() {
    check(
        &format!("00-{}-{SPAN}-01", TRACE.to_uppercase()),
        Err(ParseError::NotLowerHex { field: "trace-id" }),
    );
    check(
        &format!("00-{TRACE}-00F067AA0BA902B7-01"),
        Err(ParseError::NotLowerHex { field: "parent-id" }),
    );
    check(
        &valid("0A"),
        Err(ParseError::NotLowerHex {
            field: "trace-flags",
        }),
    );
    check(
        &valid("g1"),
        Err(ParseError::NotLowerHex {
            field: "trace-flags",
        }),
    );
    check(&format!("0A-{TRACE}-{SPAN}-01"), Err(ParseError::Version));
    check(&format!("00_{TRACE}-{SPAN}-01"), Err(ParseError::Version));
    check(
        &format!("00-{TRACE}_{SPAN}-01"),
        Err(ParseError::Delimiter { at: 35 }),
    );
    check(
        &format!("00-{TRACE}-{SPAN}_01"),
        Err(ParseError::Delimiter { at: 52 }),
    );
    // Hex that is fine elsewhere: a sign or a prefix is not a digit.
    check(
        &format!("00-+bf92f3577b34da6a3ce929d0e0e4736-{SPAN}-01"),
        Err(ParseError::NotLowerHex { field: "trace-id" }),
    );
}

#[test]
fn trace_context_rejects_wrong_lengths() {
    check("", Err(ParseError::Length { found: 0 }));
    check(&valid("01")[..54], Err(ParseError::Length { found: 54 }));
    check(
        &format!("{}-", valid("01")),
        Err(ParseError::Length { found: 56 }),
    );
    check(
        &format!("00-{TRACE}0-{SPAN}-01"),
        Err(ParseError::Length { found: 56 }),
    );
    check(
        &format!("00-{}-{SPAN}0-01", &TRACE[1..]),
        Err(ParseError::Delimiter { at: 34 + 1 }),
    );
    check(
        &format!("00-{TRACE}-{SPAN}-01-what-the-future-will-be-like"),
        Err(ParseError::Length { found: 84 }),
    );
}

#[test]
fn trace_context_rejects_version_ff_and_zero_ids() {
    check(
        &format!("ff-{TRACE}-{SPAN}-01"),
        Err(ParseError::ForbiddenVersion),
    );
    check(
        &format!("00-{}-{SPAN}-01", "0".repeat(32)),
        Err(ParseError::ZeroTraceId),
    );
    check(
        &format!("00-{TRACE}-{}-01", "0".repeat(16)),
        Err(ParseError::ZeroSpanId),
    );
}

#[test]
fn trace_context_future_versions() {
    // A later version: the first four fields are read, the rest is not ours.
    for rest in ["", "-", "-what-the-future-will-be-like", "-01-02"] {
        check(&format!("cc-{TRACE}-{SPAN}-01{rest}"), Ok(&valid("01")));
    }
    check(
        &format!("cc-{TRACE}-{SPAN}-01.what-the-future-will-be-like"),
        Err(ParseError::Delimiter { at: 55 }),
    );
    check(
        &format!("cc-{TRACE}-{SPAN}-0x-what"),
        Err(ParseError::NotLowerHex {
            field: "trace-flags",
        }),
    );
    check(
        &format!("cc-{TRACE}-{SPAN}-1"),
        Err(ParseError::Length { found: 54 }),
    );
    check(
        &format!("fe-{}-{SPAN}-01-x", "0".repeat(32)),
        Err(ParseError::ZeroTraceId),
    );
}

#[test]
fn trace_context_non_ascii_is_rejected_not_panicking() {
    let mut bytes = valid("01").into_bytes();
    bytes[10] = 0xff;
    assert_eq!(
        TraceContext::parse(&bytes, None),
        Err(ParseError::NotLowerHex { field: "trace-id" })
    );
    // A multi-byte UTF-8 character shifting the fields.
    let shifted = format!("00-é{}-{SPAN}-01", &TRACE[2..]);
    assert!(TraceContext::parse(shifted.as_bytes(), None).is_err());
}

/// Parses a tracestate and compares its formatted form (or the error).
fn check_state(header: &str, expected: Result<&str, ParseError>) {
    let got = TraceState::parse(header.as_bytes()).map(|s| s.to_string());
    assert_eq!(got.as_deref().map_err(Clone::clone), expected, "{header:?}");
}

#[test]
fn trace_context_tracestate_grammar() {
    check_state("congo=t61rcWkgMzE", Ok("congo=t61rcWkgMzE"));
    check_state(
        "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE",
        Ok("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"),
    );
    // Empty members and whitespace around members are allowed and dropped.
    check_state(
        " , rojo=00f067aa0ba902b7 ,\t,congo=t61rcWkgMzE,",
        Ok("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"),
    );
    check_state("", Ok(""));
    // Keys: simple and multi-tenant, every allowed character.
    check_state(
        "a=1,f_-*/0=2,fw529a3039@dt=3,1a2b@x-y_z*0/=4",
        Ok("a=1,f_-*/0=2,fw529a3039@dt=3,1a2b@x-y_z*0/=4"),
    );
    check_state(
        &format!("{}=1", "a".repeat(256)),
        Ok(&format!("{}=1", "a".repeat(256))),
    );
    check_state(
        &format!("{}=1", "a".repeat(257)),
        Err(ParseError::InvalidKey { member: 0 }),
    );
    check_state(
        &format!("{}@{}=1", "1".repeat(241), "a".repeat(14)),
        Ok(&format!("{}@{}=1", "1".repeat(241), "a".repeat(14))),
    );
    check_state(
        &format!("t@{}=1", "a".repeat(15)),
        Err(ParseError::InvalidKey { member: 0 }),
    );
    for key in ["Bad", "1abc", "a b", "a@", "@a", "a@1", "a@b@c", "a.b", "é"] {
        check_state(
            &format!("ok=1,{key}=v"),
            Err(ParseError::InvalidKey { member: 1 }),
        );
    }
    // Values: printable ASCII without ',' and '=', not ending in a space, 1..=256.
    check_state("k=a b", Ok("k=a b"));
    check_state("k= a", Ok("k= a"));
    check_state(
        &format!("k={}", "v".repeat(256)),
        Ok(&format!("k={}", "v".repeat(256))),
    );
    for value in [
        String::new(),
        "a=b".into(),
        "a\u{7f}".into(),
        "v".repeat(257),
    ] {
        check_state(
            &format!("k={value}"),
            Err(ParseError::InvalidValue { member: 0 }),
        );
    }
    check_state("k", Err(ParseError::MissingEquals { member: 0 }));
    check_state("k=1,k=2", Err(ParseError::DuplicateKey { member: 1 }));
}

#[test]
fn trace_context_tracestate_member_limit() {
    let members = |n: usize| (0..n).map(|i| format!("k{i}=v{i}")).collect::<Vec<_>>();
    let header = members(32).join(",");
    check_state(&header, Ok(&header));
    check_state(
        &members(33).join(","),
        Err(ParseError::TooManyMembers { found: 33 }),
    );
    // Inserting a 33rd entry drops the rightmost one.
    let mut state = TraceState::parse(header.as_bytes()).unwrap();
    state.insert("mine", "x").unwrap();
    assert_eq!(state.len(), TraceState::MAX_MEMBERS);
    assert_eq!(state.iter().next(), Some(("mine", "x")));
    assert_eq!(state.get("k31"), None);
}

#[test]
fn trace_context_tracestate_edits() {
    let mut state = TraceState::new();
    assert!(state.is_empty());
    state.insert("congo", "t61rcWkgMzE").unwrap();
    state.insert("rojo", "00f067aa0ba902b7").unwrap();
    assert_eq!(state.to_string(), "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
    // Updating moves the entry to the front; a clone is unaffected.
    let before = state.clone();
    state.insert("congo", "ucfJifl5GOE").unwrap();
    assert_eq!(state.to_string(), "congo=ucfJifl5GOE,rojo=00f067aa0ba902b7");
    assert_eq!(before.get("congo"), Some("t61rcWkgMzE"));
    assert_eq!(
        state.insert("Bad", "x"),
        Err(ParseError::InvalidKey { member: 0 })
    );
    assert_eq!(
        state.insert("ok", "a,b"),
        Err(ParseError::InvalidValue { member: 0 })
    );
    assert_eq!(state.remove("rojo").as_deref(), Some("00f067aa0ba902b7"));
    assert_eq!(state.remove("congo").as_deref(), Some("ucfJifl5GOE"));
    assert_eq!(state, TraceState::new());
}

#[test]
fn trace_context_invalid_tracestate_is_dropped_trace_continues() {
    let ctx = TraceContext::parse(valid("01").as_bytes(), Some(b"Bad=1")).unwrap();
    assert!(ctx.state.is_empty());
    assert_eq!(ctx.trace_id.to_string(), TRACE);
    let ctx = TraceContext::parse(valid("01").as_bytes(), Some(b"\xff\xfe=\x00")).unwrap();
    assert!(ctx.state.is_empty());
}

#[test]
fn trace_context_ids_and_roots() {
    let root = TraceContext::new_root(true);
    assert!(root.trace_id.is_valid() && root.span_id.is_valid());
    assert!(root.is_sampled());
    assert!(!TraceContext::new_root(false).is_sampled());
    assert_ne!(root.trace_id, TraceContext::new_root(true).trace_id);
    let parsed = TraceContext::parse(root.traceparent().as_bytes(), None).unwrap();
    assert_eq!(parsed, root);

    let child = TraceContext::parse(valid("ff").as_bytes(), Some(b"congo=x"))
        .unwrap()
        .child();
    assert_eq!(child.trace_id.to_string(), TRACE);
    assert_ne!(child.span_id.to_string(), SPAN);
    assert_eq!(
        child.flags,
        TraceFlags::KNOWN,
        "undefined flag bits are cleared"
    );
    assert_eq!(child.state.get("congo"), Some("x"));

    let id = TraceId::from_bytes([0xab; 16]);
    assert_eq!(TraceId::from_hex(id.to_string().as_bytes()), Some(id));
    assert_eq!(
        format!("{:?}", SpanId::from_bytes([1; 8])),
        "SpanId(0101010101010101)"
    );
    assert!(!TraceId::INVALID.is_valid() && !SpanId::INVALID.is_valid());
}

fn headers(pairs: &[(&str, &[u8])]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(
            http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            http::HeaderValue::from_bytes(value).unwrap(),
        );
    }
    map
}

#[test]
fn trace_context_inject_extract_round_trip() {
    let mut ctx = TraceContext::new_root(true);
    ctx.state.insert("hookrt", "1").unwrap();
    let mut map = headers(&[("tracestate", b"stale=1")]);
    inject_context(&ctx, &mut map);
    assert_eq!(map["traceparent"], ctx.traceparent());
    assert_eq!(map["tracestate"], "hookrt=1");
    assert_eq!(extract(&map), Extracted::Continued(ctx.clone()));

    // Without trace state no tracestate is sent, and a stale one is removed.
    let bare = TraceContext::new_root(false);
    inject_context(&bare, &mut map);
    assert!(map.get("tracestate").is_none());
    assert_eq!(extract(&map).into_context(), bare);

    // Several tracestate headers are one list.
    let map = headers(&[
        ("traceparent", valid("01").as_bytes()),
        ("tracestate", b"rojo=1"),
        ("TraceState", b"congo=2"),
    ]);
    let got = extract(&map);
    assert!(got.is_continued());
    assert_eq!(got.context().state.to_string(), "rojo=1,congo=2");

    // Outside a trace, inject writes nothing.
    let mut empty = HeaderMap::new();
    inject(&mut empty);
    assert!(empty.is_empty());
}

#[test]
fn trace_context_extract_without_header_is_new_root() {
    let got = extract(&HeaderMap::new());
    assert!(matches!(got, Extracted::New(_)));
    assert!(got.context().trace_id.is_valid() && got.context().is_sampled());
    assert!(!extract_with(&HeaderMap::new(), false)
        .context()
        .is_sampled());
}

#[test]
fn trace_context_extract_malformed_is_counted_new_root() {
    let upper = format!("00-{}-{SPAN}-01", TRACE.to_uppercase());
    let one = valid("01");
    let cases: Vec<Vec<(&str, &[u8])>> = vec![
        vec![
            ("traceparent", upper.as_bytes()),
            ("tracestate", b"congo=1"),
        ],
        vec![("traceparent", b"00-\xff\xfe-garbage")],
        vec![("traceparent", b"")],
        // Duplicate traceparent headers, even identical ones, are malformed.
        vec![
            ("traceparent", one.as_bytes()),
            ("traceparent", one.as_bytes()),
        ],
    ];
    for case in cases {
        let before = trace_context::malformed_count();
        let got = extract(&headers(&case));
        assert!(got.is_malformed(), "{case:?}");
        assert!(trace_context::malformed_count() > before);
        let ctx = got.into_context();
        assert!(ctx.trace_id.is_valid() && ctx.span_id.is_valid());
        assert_ne!(ctx.trace_id.to_string(), TRACE);
        assert!(
            ctx.state.is_empty(),
            "tracestate is ignored with a bad traceparent"
        );
    }

    // A bad tracestate alone does not make the request malformed.
    let before = trace_context::dropped_tracestate_count();
    let got = extract(&headers(&[
        ("traceparent", one.as_bytes()),
        ("tracestate", b"ok=1,Bad=2"),
    ]));
    assert!(got.is_continued());
    assert!(got.context().state.is_empty());
    assert!(trace_context::dropped_tracestate_count() > before);
}

#[test]
fn trace_context_follows_request_into_spawned_tasks() {
    let rt = hookrt::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let ctx = TraceContext::new_root(true);
        let (seen, sent) = TRACE_CONTEXT
            .run(ctx.clone(), async {
                let deep = hookrt::spawn(async {
                    hookrt::spawn(async {
                        let mut map = HeaderMap::new();
                        inject(&mut map);
                        (trace_context::current(), map)
                    })
                    .await
                    .unwrap()
                });
                deep.await.unwrap()
            })
            .await;
        assert_eq!(seen, Some(ctx.clone()));
        assert_eq!(sent["traceparent"], ctx.traceparent());
        assert_eq!(trace_context::current(), None, "outside the request");

        // Two requests at once keep their own traces.
        let a = TraceContext::new_root(true);
        let b = TraceContext::new_root(false);
        let task = |c: TraceContext| {
            hookrt::spawn(TRACE_CONTEXT.run(c, async {
                hookrt::task::yield_now().await;
                hookrt::spawn(async { trace_context::current() })
                    .await
                    .unwrap()
            }))
        };
        let (ta, tb) = (task(a.clone()), task(b.clone()));
        assert_eq!(ta.await.unwrap(), Some(a));
        assert_eq!(tb.await.unwrap(), Some(b));
    });
}
