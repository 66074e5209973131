// Numbers, nesting and strings survive the round trip through the handler unchanged.
function OnUpdate(doc, meta) {
    out[meta.id] = {copy: doc, max_safe: doc.big === Number.MAX_SAFE_INTEGER, types: doc.mixed.map(function (v) { return v === null ? "null" : typeof v; })};
}
