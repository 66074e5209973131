// Encode payloads and embedding vectors for an external system.
function OnUpdate(doc, meta) {
    var arity;
    try {
        couchbase.base64Encode("a", "b");
        arity = "no error";
    } catch (e) {
        arity = {eventing_error: e instanceof EventingError, message: e.message};
    }
    out[meta.id] = {
        text: couchbase.base64Encode("hello"),
        unicode: couchbase.base64Encode("héllo ☃"),
        object: couchbase.base64Encode({a: 1}),
        decoded: couchbase.base64Decode("aGVsbG8="),
        f64: couchbase.base64Float64ArrayEncode([1.5, -2]),
        f64_back: couchbase.base64Float64ArrayDecode("AAAAAAAA+D8AAAAAAAAAwA=="),
        f32: couchbase.base64Float32ArrayEncode([0.5, 1, -0.25]),
        f32_back: couchbase.base64Float32ArrayDecode("AAAAPwAAgD8AAIC+"),
        arity: arity
    };
}
