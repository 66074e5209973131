// Thresholds and routing tables come from constant bindings.
function OnUpdate(doc, meta) {
    if (doc.amount < MIN_AMOUNT) return;
    var region = REGIONS[doc.country] || DEFAULT_REGION;
    flagged[meta.id] = {
        amount: doc.amount,
        region: region,
        currencies: CURRENCIES.length,
        label: LABEL
    };
}
