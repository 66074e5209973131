// Register a player in the roster, then count the team (through the team
// index) and the whole roster (through the primary index) with SQL++ in
// the same invocation: both counts include this player.
function OnUpdate(doc, meta) {
    var id = meta.id;
    var team = doc.team;
    INSERT INTO `{{bucket:roster}}` (KEY, VALUE) VALUES ($id, {"team": $team});
    var inTeam = N1QL("SELECT COUNT(*) AS n FROM `{{bucket:roster}}` WHERE team = $team", {"$team": team});
    var all = SELECT RAW COUNT(*) FROM `{{bucket:roster}}`;
    var counts = {};
    for (var row of inTeam) {
        counts.team = row.n;
    }
    for (var n of all) {
        counts.all = n;
    }
    tally[id] = counts;
}
