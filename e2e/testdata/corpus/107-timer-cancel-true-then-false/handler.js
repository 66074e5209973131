// An order paid before its payment deadline cancels the deadline timer.
// Cancelling again (a retried event) finds nothing and says so.
function OnUpdate(doc, meta) {
    var due = new Date(Date.now() + 1500);
    createTimer(PaymentOverdue, due, "pay::" + meta.id, {order: meta.id});
    if (doc.paid) {
        var first = cancelTimer(PaymentOverdue, "pay::" + meta.id);
        var again = cancelTimer(PaymentOverdue, "pay::" + meta.id);
        var never = cancelTimer(PaymentOverdue, "pay::no-such-order");
        results[meta.id] = {first: first, again: again, never: never};
    }
}

function PaymentOverdue(context) {
    results["overdue::" + context.order] = {overdue: true};
}
