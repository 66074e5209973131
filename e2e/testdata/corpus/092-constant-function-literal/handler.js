// A formatting helper injected as a constant binding.
function OnUpdate(doc, meta) {
    out[meta.id] = {label: FORMAT_PRICE(doc.cents), currency: CURRENCY};
}
