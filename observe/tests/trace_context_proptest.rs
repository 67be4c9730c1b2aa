//! Property tests: no header bytes panic the trace-context parser or `extract`, and
//! whatever parses formats back to a header that parses to the same context.

use hookrt_observe::trace_context::{extract, inject_context, TraceContext, TraceState};
use http::{HeaderMap, HeaderValue};
use proptest::prelude::*;

/// The characters of the headers' grammars plus near misses (uppercase hex, other
/// punctuation, whitespace), so generated strings often come close to valid.
const ALPHABET: &[u8] = b"0123456789abcdefABCDEFxyz-_*/@=, \t.";

/// Strings over [`ALPHABET`], up to `max` long.
fn alphabet_string(max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(proptest::sample::select(ALPHABET), 0..max)
}

/// A valid header with a few random byte substitutions: exercises each rule in turn.
fn mutated_traceparent() -> impl Strategy<Value = Vec<u8>> {
    let fields = (
        proptest::array::uniform16(any::<u8>()),
        proptest::array::uniform8(any::<u8>()),
        any::<u8>(),
        any::<u8>(),
    );
    let edits = proptest::collection::vec((0usize..60, any::<u8>()), 0..3);
    (fields, edits, alphabet_string(12)).prop_map(|((t, s, f, v), edits, tail)| {
        let mut header = format!("{v:02x}-{}-{}-{f:02x}", hex(&t), hex(&s)).into_bytes();
        header.extend_from_slice(&tail);
        for (at, byte) in edits {
            if let Some(b) = header.get_mut(at) {
                *b = byte;
            }
        }
        header
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Asserts the round trip of anything that parsed.
fn check_round_trip(traceparent: &[u8], tracestate: Option<&[u8]>) {
    if let Ok(ctx) = TraceContext::parse(traceparent, tracestate) {
        assert!(ctx.trace_id.is_valid() && ctx.span_id.is_valid());
        let header = ctx.traceparent();
        assert_eq!(header.len(), 55);
        let state = ctx.tracestate();
        let again = TraceContext::parse(header.as_bytes(), state.as_deref().map(str::as_bytes));
        assert_eq!(again.as_ref(), Ok(&ctx), "{header} {state:?}");
    }
    if let Some(state) = tracestate {
        if let Ok(parsed) = TraceState::parse(state) {
            assert!(parsed.len() <= TraceState::MAX_MEMBERS);
            let text = parsed.to_string();
            assert_eq!(TraceState::parse(text.as_bytes()), Ok(parsed));
        }
    }
}

/// `extract` on the bytes as header values (where `http` accepts them).
fn check_extract(traceparent: &[u8], tracestate: &[u8]) {
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_bytes(traceparent) {
        headers.insert("traceparent", value);
    }
    if let Ok(value) = HeaderValue::from_bytes(tracestate) {
        headers.append("tracestate", value);
    }
    let got = extract(&headers);
    let ctx = got.context();
    assert!(ctx.trace_id.is_valid() && ctx.span_id.is_valid());
    let mut out = HeaderMap::new();
    inject_context(ctx, &mut out);
    assert_eq!(&extract(&out).into_context(), ctx);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn trace_context_arbitrary_bytes_never_panic(
        traceparent in proptest::collection::vec(any::<u8>(), 0..80),
        tracestate in proptest::collection::vec(any::<u8>(), 0..80),
    ) {
        check_round_trip(&traceparent, Some(&tracestate));
        check_round_trip(&traceparent, None);
        check_extract(&traceparent, &tracestate);
    }

    #[test]
    fn trace_context_header_alphabet_never_panics(
        traceparent in alphabet_string(70),
        tracestate in alphabet_string(120),
    ) {
        check_round_trip(&traceparent, Some(&tracestate));
        check_extract(&traceparent, &tracestate);
    }

    #[test]
    fn trace_context_near_valid_headers_round_trip(
        traceparent in mutated_traceparent(),
        tracestate in alphabet_string(40),
    ) {
        check_round_trip(&traceparent, Some(&tracestate));
        check_extract(&traceparent, &tracestate);
    }

    #[test]
    fn trace_context_valid_tracestate_round_trips(
        members in proptest::collection::vec(("[a-z][a-z0-9_*/-]{0,8}(@[a-z][a-z0-9]{0,4})?", "[ -+--<>-~]{0,8}[!-+--<>-~]"), 0..40),
    ) {
        let header = members
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" , ");
        let mut keys: Vec<&str> = members.iter().map(|(k, _)| k.as_str()).collect();
        keys.sort_unstable();
        keys.dedup();
        let parsed = TraceState::parse(header.as_bytes());
        if keys.len() == members.len() && members.len() <= TraceState::MAX_MEMBERS {
            let parsed = parsed.unwrap();
            prop_assert_eq!(parsed.len(), members.len());
            for (k, v) in &members {
                prop_assert_eq!(parsed.get(k), Some(v.as_str()));
            }
        } else {
            prop_assert!(parsed.is_err());
        }
    }
}
