// OnDeploy seeds the configuration every OnUpdate relies on, and records
// how (and how often) it was called.
function OnDeploy(action) {
    couchbase.increment(config, {id: "deploy_runs"});
    config["rates"] = {eur: 2, usd: 3};
    config["deployed"] = {reason: action.reason, delay: action.delay};
}

function OnUpdate(doc, meta) {
    var rates = config["rates"];
    priced[meta.id] = {
        amount: doc.amount,
        converted: rates ? doc.amount * rates[doc.currency] : null
    };
}
