-- SQL++ examples from the Couchbase Server 7.1 documentation
-- (github.com/couchbase/docs-server, modules/n1ql/examples), one statement
-- per block; a block starts with a '-- @ name' line. Statements outside the
-- parser's scope (UPDATE STATISTICS, ANALYZE, ALTER INDEX, transactions,
-- parenthesised index keys, cbq \SET) and
-- two that Couchbase rejects too (a missing and a stray comma) are left out.

-- @ add-airline-with-side-effect#1
SELECT "true" AS response WHERE AddAirline() = "missing"

-- @ create-bank-interest-function-uk#1
CREATE FUNCTION default:`bank-database`.`UKBank`.GetInterest(...)
LANGUAGE JAVASCRIPT as "getInterestInSterling"
AT "bank-database/UKBank/bank-library"

-- @ create-bank-interest-function-us#1
CREATE FUNCTION default:`bank-database`.`USBank`.GetInterest(...)
LANGUAGE JAVASCRIPT as "getInterestInDollars"
AT "bank-database/USBank/bank-library"

-- @ create-globally-scoped-n1ql-udf#1
CREATE FUNCTION GetBusinessDays(startDate, endDate)
LANGUAGE JAVASCRIPT as "getBusinessDays"
AT "my-library"

-- @ create-relatively-scoped-n1ql-udf#1
CREATE FUNCTION GetBusinessDays(startDate, endDate)
LANGUAGE JAVASCRIPT as "getBusinessDays"
AT "./my-library"

-- @ create-scoped-n1ql-udf#1
CREATE FUNCTION default:`travel-sample`.`inventory`.GetBusinessDays(startDate, endDate) -- <.>
LANGUAGE JAVASCRIPT as "getBusinessDays" -- <.>
AT "travel-sample/inventory/my-library"

-- @ create-sum-function#1
CREATE FUNCTION SumListOfNumbers(...)
LANGUAGE JAVASCRIPT as "sumListOfNumbers"
AT "my-library"

-- @ create-variadic-n1ql-udf#1
CREATE FUNCTION GetBusinessDays(...)
LANGUAGE JAVASCRIPT as "getBusinessDays"
AT "my-library"

-- @ dml__ansi-merge-else#1
MERGE INTO `travel-sample`.inventory.airport AS target
USING [
  {"iata":"DSA", "name": "Doncaster Sheffield Airport"},
  {"iata":"VLY", "name": "Anglesey Airport / Maes Awyr Môn"}
] AS source
ON target.faa = source.iata
WHEN MATCHED THEN
  UPDATE SET target.old_name = target.airportname,
             target.airportname = source.name,
             target.updated = true
WHEN NOT MATCHED THEN
  INSERT (KEY UUID(),
          VALUE {"faa": source.iata,
                 "airportname": source.name,
                 "type": "airport",
                 "inserted": true} )
RETURNING *

-- @ dml__ansi-merge-expire#1
MERGE INTO `travel-sample`.inventory.airport AS target
USING [
  {"iata":"DSA", "name": "Doncaster Sheffield Airport"},
  {"iata":"VLY", "name": "Anglesey Airport / Maes Awyr Môn"}
] AS source
ON target.faa = source.iata
WHEN MATCHED THEN
  UPDATE SET target.old_name = target.airportname,
             target.airportname = source.name,
             target.updated = true,
             meta(target).expiration = meta(target).expiration
WHEN NOT MATCHED THEN
  INSERT (KEY UUID(),
          VALUE {"faa": source.iata,
                 "airportname": source.name,
                 "type": "airport",
                 "inserted": true},
          OPTIONS {"expiration": 7*24*60*60} )

-- @ dml__ansi-merge-expr#1
MERGE INTO `travel-sample`.inventory.hotel t
USING [
  {"id":"21728", "vacancy": true},
  {"id":"21730", "vacancy": true}
] source
ON meta(t).id = "hotel_" || source.id
WHEN MATCHED THEN
  UPDATE SET t.old_vacancy = t.vacancy,
             t.vacancy = source.vacancy
RETURNING meta(t).id, t.old_vacancy, t.vacancy

-- @ dml__ansi-merge-keyspace#1
MERGE INTO `travel-sample`.inventory.route
USING `travel-sample`.inventory.airport
ON route.sourceairport = airport.faa
WHEN MATCHED THEN UPDATE
  SET route.old_equipment = route.equipment,
      route.equipment = "797",
      route.updated = true
  WHERE airport.country = "France"
    AND route.airline = "BA"
    AND CONTAINS(route.equipment, "319")
WHEN MATCHED THEN DELETE
  WHERE airport.country = "France"
    AND route.airline = "BA"
    AND CONTAINS(route.equipment, "757")
RETURNING route.old_equipment, route.equipment, airport.faa

-- @ dml__delete-all-return#1
DELETE FROM `travel-sample`.inventory.hotel RETURNING *

-- @ dml__delete-all#1
DELETE FROM `travel-sample`.inventory.hotel

-- @ dml__delete-filter-return#1
DELETE FROM `travel-sample`.inventory.hotel
WHERE city = "San Francisco"
RETURNING meta().id

-- @ dml__delete-filter#1
DELETE FROM `travel-sample`.inventory.airline f
WHERE f.callsign = "AIR-X"
RETURNING f.id

-- @ dml__delete-key#1
DELETE FROM `travel-sample`.inventory.airline k
USE KEYS "airline_4444"
RETURNING k

-- @ dml__delete-sub-other#1
DELETE FROM `travel-sample`.inventory.airport
WHERE city IN (SELECT raw city FROM `beer-sample` WHERE city IS NOT MISSING)
RETURNING airportname

-- @ dml__delete-sub-same#1
DELETE FROM `travel-sample`.inventory.airport
WHERE city IN (SELECT RAW MAX(t.city) FROM `travel-sample`.inventory.airport AS t)
RETURNING airportname

-- @ dml__insert-batch#1
INSERT INTO `travel-sample`.inventory.airline (KEY,VALUE)
VALUES ( "airline_4444",
    { "callsign": "MY-AIR",
      "country": "United States",
      "iata": "Z1",
      "icao": "AQZ",
      "name": "80-My Air",
      "id": "4444",
      "type": "airline"} ),
VALUES ( "airline_4445",
    { "callsign": "AIR-X",
      "country": "United States",
      "iata": "X1",
      "icao": "ARX",
      "name": "10-AirX",
      "id": "4445",
      "type": "airline"} )
RETURNING *

-- @ dml__insert-doc#1
INSERT INTO `travel-sample`.inventory.airline (KEY,VALUE)
  VALUES ( "1025",
            {     "callsign": "MY-AIR",
                  "country": "United States",
                  "iata": "Z1",
                  "icao": "AQZ",
                  "id": "1011",
                  "name": "80-My Air",
                  "type": "airline"
            } )
RETURNING *

-- @ dml__insert-select#1
INSERT INTO `travel-sample`.inventory.airport (KEY UUID(), VALUE _airport)
    SELECT _airport FROM `travel-sample`.inventory.airport _airport
    WHERE airportname = "Heathrow"
RETURNING *

-- @ dml__insert-value#1
INSERT INTO `travel-sample`.inventory.airline ( KEY, VALUE )
  VALUES
  (
    "k001",
    { "id": "01", "type": "airline"}
  )
RETURNING META().id as docid, *

-- @ dml__lookup-merge-expr#1
MERGE INTO `travel-sample`.inventory.hotel t
USING [
  {"id":"21728", "vacancy": true},
  {"id":"21730", "vacancy": true}
] source
ON KEY "hotel_"|| source.id
WHEN MATCHED THEN
  UPDATE SET t.old_vacancy = t.vacancy, t.vacancy = source.vacancy
RETURNING meta(t).id, t.old_vacancy, t.vacancy

-- @ dml__lookup-merge-keyspace#1
MERGE INTO product p USING orders o ON KEY o.productId
WHEN MATCHED THEN
  UPDATE SET p.lastSaleDate = o.orderDate
WHEN MATCHED THEN
  DELETE WHERE p.inventoryCount  <= 0

-- @ dml__update-preserve-expire#1
UPDATE `travel-sample`.inventory.route t USE KEYS "route_10003"
SET meta(t).expiration = meta(t).expiration,
s.codeshare = NULL FOR s IN schedule END

-- @ dml__update-rbac-return#1
UPDATE `travel-sample`.inventory.airport
SET city = "San Francisco"
WHERE lower(city) = "san francisco"
RETURNING *

-- @ dml__update-rbac-sub#1
UPDATE `travel-sample`.inventory.airport
SET foo = 9
WHERE city IN (SELECT RAW city FROM `beer-sample` WHERE type = "brewery")

-- @ dml__update-rbac#1
UPDATE `travel-sample`.inventory.airport SET foo = 5

-- @ dml__update-set-array#1
UPDATE `travel-sample`.inventory.route t
USE KEYS "route_10003"
SET s.codeshare = NULL FOR s IN schedule END
RETURNING t

-- @ dml__update-set-expire#1
UPDATE `travel-sample`.inventory.route t USE KEYS "route_10003"
SET meta(t).expiration = 7*24*60*60,
s.codeshare = NULL FOR s IN schedule END

-- @ dml__update-set-nested#1
UPDATE `travel-sample`.inventory.hotel AS h USE KEYS "hotel_10025"
SET i.ratings = OBJECT_ADD(i.ratings, "new", "new_value" ) FOR i IN reviews END
RETURNING h.reviews[*].ratings

-- @ dml__update-set-sub#1
UPDATE `travel-sample`.inventory.airport AS a
SET hotels =
  (SELECT  h.name, h.id
  FROM  `travel-sample`.inventory.hotel AS h
  WHERE h.city = "Nice")
WHERE a.faa ="NCE"
RETURNING a

-- @ dml__update-set#1
UPDATE `travel-sample`.inventory.landmark
USE KEYS "landmark_10090"
SET nickname = "Squiggly Bridge"
RETURNING landmark.nickname

-- @ dml__update-unset-expire-alt#1
UPDATE `travel-sample`.inventory.route t USE KEYS "route_10003"
SET s.codeshare = NULL FOR s IN schedule END

-- @ dml__update-unset-expire#1
UPDATE `travel-sample`.inventory.route t USE KEYS "route_10003"
SET meta(t).expiration = 0,
s.codeshare = NULL FOR s IN schedule END

-- @ dml__update-unset-nested#1
UPDATE `travel-sample`.inventory.hotel AS h USE KEYS "hotel_10025"
UNSET i.new FOR i IN
  (ARRAY j.ratings FOR j IN reviews END)
END
RETURNING h.reviews[*].ratings

-- @ dml__update-unset#1
UPDATE `travel-sample`.inventory.landmark
USE KEYS "landmark_10090"
UNSET nickname
RETURNING landmark.name

-- @ dml__upsert-batch#1
UPSERT INTO `travel-sample`.inventory.landmark (KEY, VALUE)
VALUES ("upsert-1", { "name": "The Minster Inn", "type": "landmark-pub"}),
("upsert-2", {"name": "The Black Swan", "type": "landmark-pub"})
RETURNING VALUE name

-- @ dml__upsert-rbac-return#1
UPSERT INTO `travel-sample`.inventory.hotel (KEY, VALUE)
VALUES ("key1", { "type" : "hotel", "name" : "new hotel" })
RETURNING *

-- @ dml__upsert-rbac-select#1
UPSERT INTO `travel-sample`.inventory.landmark (KEY foo, VALUE bar)
SELECT META(doc).id AS foo, doc AS bar FROM `beer-sample` AS doc WHERE type = "brewery"

-- @ dml__upsert-rbac#1
UPSERT INTO `travel-sample`.inventory.hotel (KEY, VALUE)
VALUES ("key1", { "type" : "hotel", "name" : "new hotel" })

-- @ execute-airline-function-with-date#1
EXECUTE FUNCTION AddAirlineWithDate(1220, 'Raz Air', 'RAZ-AIR', 'United Kingdom')

-- @ execute-airline-function#1
EXECUTE FUNCTION selectAirlines('United Kingdom')

-- @ execute-do-recursion#1
EXECUTE FUNCTION doRecursion()

-- @ execute-function-get-interest#1
EXECUTE FUNCTION GetInterest(10, 0.25)

-- @ execute-javascript-function#1
EXECUTE FUNCTION GetBusinessDays("02/14/2022", "04/16/2022")

-- @ execute-sum-function#1
EXECUTE FUNCTION SumListOfNumbers(1, 2, 4, 8, 16, 32, 64)

-- @ functions__advisor-abort#1
SELECT ADVISOR({"action": "abort", "session": "0cd09ae4-a083-4a7e-86cd-85e42c140d60"})
AS Abort

-- @ functions__advisor-get#1
SELECT ADVISOR({"action": "get", "session": "0cd09ae4-a083-4a7e-86cd-85e42c140d60"})
AS Get

-- @ functions__advisor-list#1
SELECT ADVISOR({"action": "list"}) AS List

-- @ functions__advisor-multiple#1
SELECT ADVISOR([
  "SELECT * FROM `travel-sample`.inventory.landmark
   WHERE activity = 'eat' AND city = 'Paris'",
  "SELECT * FROM `travel-sample`.inventory.landmark
   WHERE activity = 'see' AND city = 'San Francisco'"
]) AS Multiple

-- @ functions__advisor-purge#1
SELECT ADVISOR({"action": "purge", "session": "0cd09ae4-a083-4a7e-86cd-85e42c140d60"})
AS Purge

-- @ functions__advisor-recent#1
SELECT ADVISOR((SELECT RAW statement FROM system:completed_requests)) AS Recent

-- @ functions__advisor-single#1
SELECT ADVISOR("SELECT * FROM `travel-sample`.inventory.landmark
WHERE activity = 'eat' AND city = 'Paris'") AS Single

-- @ functions__advisor-start#1
SELECT ADVISOR({"action": "start", "response": "0s", "duration": "1h"}) AS Collect

-- @ functions__advisor-stop#1
SELECT ADVISOR({"action": "stop", "session": "0cd09ae4-a083-4a7e-86cd-85e42c140d60"})
AS Stop

-- @ functions__avg-all#1
SELECT AVG(ALL stops) AS AvgAllStops FROM `travel-sample`.inventory.route

-- @ functions__avg-distinct#1
SELECT AVG(DISTINCT stops) AS AvgDistinctStops FROM `travel-sample`.inventory.route

-- @ functions__avg#1
SELECT AVG(geo.alt) AS AverageAltitude FROM `travel-sample`.inventory.airport

-- @ functions__min-filter#1
SELECT MIN(name) FILTER (WHERE SUBSTR(name,0)>="A") AS MinName
FROM `travel-sample`.inventory.hotel

-- @ functions__min-num#1
SELECT MIN(geo.lat) AS MinLatitude FROM `travel-sample`.inventory.hotel

-- @ functions__min-string#1
SELECT MIN(name) AS MinName FROM `travel-sample`.inventory.hotel

-- @ functions__unnest-pos#1
SELECT UNNEST_POS(u) AS upos, u FROM [{"a1":[10,9,4]}] AS d UNNEST d.a1 AS u

-- @ javascript-udfs__create-scoped-n1ql-udf#1
CREATE FUNCTION default:`travel-sample`.`inventory`.GetBusinessDays(...) LANGUAGE JAVASCRIPT as "getBusinessDays" AT "travel-sample/inventory/my-library"

-- @ javascript-udfs__execute-javascript-function#1
EXECUTE FUNCTION GetBusinessDays("02/14/2022", "04/16/2022")

-- @ javascript-udfs__execute-scoped-function#1
EXECUTE FUNCTION default:`travel-sample`.`inventory`.GetBusinessDays("03/10/2022", "05/10.2022")

-- @ javascript-udfs__select-get-business-days#1
SELECT GetBusinessDays("02/14/2022", "04/16/2022")

-- @ javascript-udfs__select-true-alias-get-business-days#1
SELECT CASE 
  WHEN  GetBusinessDays('02/14/2022', '4/16/2022') > 44 THEN "true" 
  ELSE "false" 
  END 
  AS response

-- @ n1ql-language-reference__adaptive-idx-c1#1
CREATE INDEX `def_inventory_airport_airportname`
ON `travel-sample`.`inventory`.`airport`(`airportname`) WITH { "defer_build":true }

-- @ n1ql-language-reference__adaptive-idx-c10#1
CREATE INDEX `ai_city1`
ON `travel-sample`.inventory.hotel(DISTINCT PAIRS({"city" : LOWER(city)}))

-- @ n1ql-language-reference__adaptive-idx-c13#1
CREATE INDEX `ai_city2`
ON `travel-sample`.inventory.hotel(DISTINCT PAIRS({"city" : city}))

-- @ n1ql-language-reference__adaptive-idx-c2#1
CREATE INDEX `def_inventory_airport_city`
ON `travel-sample`.`inventory`.`airport`(`city`) WITH { "defer_build":true }

-- @ n1ql-language-reference__adaptive-idx-c3#1
CREATE INDEX `def_inventory_airport_faa`
ON `travel-sample`.`inventory`.`airport`(`faa`) WITH { "defer_build":true }

-- @ n1ql-language-reference__adaptive-idx-c4#1
CREATE INDEX `ai_airport_day_faa`
ON `travel-sample`.inventory.airport(DISTINCT PAIRS({airportname, city, faa, type}))

-- @ n1ql-language-reference__adaptive-idx-c5#1
CREATE INDEX `ai_self`
ON `travel-sample`.inventory.airport(DISTINCT PAIRS(self))

-- @ n1ql-language-reference__adaptive-idx-c6#1
CREATE INDEX `idx_city_faa_airport`
ON `travel-sample`.inventory.airport(city, faa, airportname)

-- @ n1ql-language-reference__adaptive-idx-c7#1
CREATE INDEX `def_inventory_hotel_city`
ON `travel-sample`.`inventory`.`hotel`(`city`) WITH { "defer_build":true }

-- @ n1ql-language-reference__adaptive-idx-c8#1
CREATE INDEX `ai_city` ON `travel-sample`.inventory.hotel(DISTINCT PAIRS({city}))

-- @ n1ql-language-reference__adaptive-idx-c9a#1
CREATE INDEX ai_geo ON `travel-sample`.inventory.landmark
(DISTINCT PAIRS({geo.alt, geo.lat, geo.lon}))
WHERE activity = "see"

-- @ n1ql-language-reference__adaptive-idx-c9b#1
CREATE INDEX ai_geo_activity ON `travel-sample`.inventory.landmark
(DISTINCT PAIRS({geo.alt, geo.lat, geo.lon, activity}))
WHERE activity = "see"

-- @ n1ql-language-reference__adaptive-idx-limits-3#1
SELECT array_length(PAIRS(self)) FROM `travel-sample`.inventory.route
LIMIT 1

-- @ n1ql-language-reference__adaptive-idx-limits-4#1
SELECT sum(array_length(PAIRS(self))) FROM `travel-sample`.inventory.route
LIMIT 1

-- @ n1ql-language-reference__adaptive-idx-perform-1#1
CREATE INDEX idx_name ON `travel-sample`.inventory.hotel(name)

-- @ n1ql-language-reference__adaptive-idx-perform-1#2
CREATE INDEX idx_self ON `travel-sample`.inventory.hotel(DISTINCT PAIRS(self))

-- @ n1ql-language-reference__adaptive-idx-perform-1#3
EXPLAIN SELECT * FROM `travel-sample`.inventory.hotel WHERE name IS NOT NULL

-- @ n1ql-language-reference__adaptive-idx-perform-2#1
CREATE INDEX idx_adpt ON `travel-sample`.inventory.landmark(DISTINCT PAIRS(self))
WHERE city="Paris"

-- @ n1ql-language-reference__adaptive-idx-perform-2#2
CREATE INDEX idx_reg1 ON `travel-sample`.inventory.landmark(name) WHERE city="Paris"

-- @ n1ql-language-reference__adaptive-idx-perform-2#3
CREATE INDEX idx_reg2 ON `travel-sample`.inventory.landmark(city)

-- @ n1ql-language-reference__adaptive-idx-perform-2#4
SELECT * FROM `travel-sample`.inventory.landmark
WHERE city="Paris" AND name IS NOT NULL

-- @ n1ql-language-reference__adaptive-idx-q1#1
SELECT * FROM `travel-sample`.inventory.airport WHERE airportname LIKE "San Francisco%"

-- @ n1ql-language-reference__adaptive-idx-q10#1
EXPLAIN SELECT city FROM `travel-sample`.inventory.hotel
USE INDEX (ai_city1)
WHERE LOWER(city) = "san francisco"

-- @ n1ql-language-reference__adaptive-idx-q11#1
EXPLAIN SELECT city FROM `travel-sample`.inventory.hotel
USE INDEX (ai_city)
WHERE city NOT LIKE "%Francisco"

-- @ n1ql-language-reference__adaptive-idx-q12#1
EXPLAIN SELECT city FROM `travel-sample`.inventory.hotel
USE INDEX (ai_city)
WHERE city LIKE "%Francisco"

-- @ n1ql-language-reference__adaptive-idx-q13#1
EXPLAIN SELECT city FROM `travel-sample`.inventory.hotel
WHERE city = "San Francisco"

-- @ n1ql-language-reference__adaptive-idx-q1a#1
SELECT * FROM `travel-sample`.inventory.airport
USE INDEX (ai_airport_day_faa)
WHERE airportname LIKE "San Francisco%"

-- @ n1ql-language-reference__adaptive-idx-q2#1
SELECT * FROM `travel-sample`.inventory.airport WHERE city = "San Francisco"

-- @ n1ql-language-reference__adaptive-idx-q2a#1
SELECT * FROM `travel-sample`.inventory.airport
USE INDEX (ai_airport_day_faa)
WHERE city = "San Francisco"

-- @ n1ql-language-reference__adaptive-idx-q3#1
SELECT * FROM `travel-sample`.inventory.airport WHERE faa = "SFO"

-- @ n1ql-language-reference__adaptive-idx-q3a#1
SELECT * FROM `travel-sample`.inventory.airport
USE INDEX (ai_airport_day_faa)
WHERE faa = "SFO"

-- @ n1ql-language-reference__adaptive-idx-q5#1
EXPLAIN SELECT * FROM `travel-sample`.inventory.airport
USE INDEX (ai_self)
WHERE faa = "SFO"

-- @ n1ql-language-reference__adaptive-idx-q5a#1
EXPLAIN SELECT *
FROM `travel-sample`.inventory.airport
USE INDEX (ai_self)
WHERE tz = "Europe/Paris"

-- @ n1ql-language-reference__adaptive-idx-q6#1
SELECT * FROM `travel-sample`.inventory.airport
WHERE faa = "SFO"
AND city IS NOT MISSING

-- @ n1ql-language-reference__adaptive-idx-q7#1
EXPLAIN SELECT city FROM `travel-sample`.inventory.hotel
USE INDEX (def_inventory_hotel_city)
WHERE city = "San Francisco"

-- @ n1ql-language-reference__adaptive-idx-q8#1
EXPLAIN SELECT city FROM `travel-sample`.inventory.hotel
USE INDEX (ai_city)
WHERE city = "San Francisco"

-- @ n1ql-language-reference__adaptive-idx-q9#1
EXPLAIN SELECT META(t).id FROM `travel-sample`.inventory.landmark t
WHERE t.geo.alt > 1000 AND t.activity = "see"

-- @ n1ql-language-reference__build-idx-all#1
BUILD INDEX ON `travel-sample`.inventory.landmark (( -- <1>
  SELECT RAW name -- <2>
  FROM system:indexes
  WHERE keyspace_id = 'landmark'
    AND scope_id = 'inventory'
    AND bucket_id = 'travel-sample'
    AND state = 'deferred' ))

-- @ n1ql-language-reference__build-idx-multiple#1
BUILD INDEX ON `travel-sample`.inventory.hotel(idx_landmark_name, idx_landmark_primary)

-- @ n1ql-language-reference__build-idx-single#1
BUILD INDEX ON `travel-sample`.inventory.landmark(idx_landmark_country) USING GSI

-- @ n1ql-language-reference__build-pri-single#1
BUILD INDEX ON `travel-sample`.inventory.hotel(idx_hotel_primary) USING GSI

-- @ n1ql-language-reference__check-idx-defer#1
SELECT * FROM system:indexes WHERE name="idx_landmark_country"

-- @ n1ql-language-reference__check-idx-online#1
SELECT * FROM system:indexes WHERE name="idx_landmark_country"

-- @ n1ql-language-reference__check-pri-defer#1
SELECT * FROM system:indexes WHERE name="idx_hotel_primary"

-- @ n1ql-language-reference__check-pri-online#1
SELECT * FROM system:indexes WHERE name="idx_hotel_primary"

-- @ n1ql-language-reference__create-idx-collection#1
/* tag::context[] */
/* end::context[] */

/* tag::query[] */
CREATE INDEX idx_airport_over1000
  ON airport(geo.alt)
  WHERE geo.alt > 1000
  USING GSI
  WITH {"nodes": ["127.0.0.1:8091"]}

-- @ n1ql-language-reference__create-idx-default#1
/* tag::context[] */
/* end::context[] */

/* tag::query[] */
CREATE INDEX idx_default_over1000
  ON `travel-sample`(geo.alt)
  WHERE geo.alt > 1000
  USING GSI
  WITH {"nodes": ["127.0.0.1:8091"]}

-- @ n1ql-language-reference__create-idx-defer-1#1
CREATE INDEX idx_landmark_country
  ON `travel-sample`.inventory.landmark(country)
  USING GSI
  WITH {"defer_build":true}

-- @ n1ql-language-reference__create-idx-defer-2#1
CREATE INDEX idx_landmark_name 
  ON `travel-sample`.inventory.landmark(name)
  USING GSI
  WITH {"defer_build":true}

-- @ n1ql-language-reference__create-idx-defer-3#1
CREATE PRIMARY INDEX idx_landmark_primary
  ON `travel-sample`.inventory.landmark
  USING GSI
  WITH {"defer_build":true}

-- @ n1ql-language-reference__create-idx-include#1
CREATE INDEX idx_airport_include
ON `travel-sample`.inventory.airport(district INCLUDE MISSING, name)

-- @ n1ql-language-reference__create-idx-missing#1
CREATE INDEX idx_airport_missing
ON `travel-sample`.inventory.airport(district, name)

-- @ n1ql-language-reference__create-idx-name#1
CREATE INDEX travel_name ON `travel-sample`.inventory.airline(name)

-- @ n1ql-language-reference__create-idx-node#1
CREATE INDEX idx_airport_over1000
  ON `travel-sample`.inventory.airport(geo.alt)
  WHERE geo.alt > 1000
  USING GSI
  WITH {"nodes": ["127.0.0.1:8091"]}

-- @ n1ql-language-reference__create-idx-predicate#1
CREATE INDEX `idx_image_direct_url`
ON `travel-sample`.inventory.landmark(`image_direct_url`)

-- @ n1ql-language-reference__create-pri-collection#1
/* tag::context[] */
/* end::context[] */

/* tag::query[] */
CREATE PRIMARY INDEX idx_airport_primary ON airport USING GSI

-- @ n1ql-language-reference__create-pri-default#1
/* tag::context[] */
/* end::context[] */

/* tag::query[] */
CREATE PRIMARY INDEX idx_default_primary ON `travel-sample` USING GSI

-- @ n1ql-language-reference__create-pri-defer#1
CREATE PRIMARY INDEX idx_hotel_primary
  ON `travel-sample`.inventory.hotel
  USING GSI
  WITH {"defer_build":true}

-- @ n1ql-language-reference__create-pri-name#1
CREATE PRIMARY INDEX travel_primary ON `travel-sample`.inventory.airline

-- @ n1ql-language-reference__create-pri-nameless#1
/* tag::query[] */
CREATE PRIMARY INDEX ON `travel-sample`.inventory.airline

-- @ n1ql-language-reference__create-pri-nameless#2
/* end::query[] */
/* tag::check[] */
SELECT * FROM system:indexes WHERE name = '#primary'

-- @ n1ql-language-reference__drop-idx-alt#1
DROP INDEX default:`travel-sample`.inventory.airline.`idx-name`

-- @ n1ql-language-reference__drop-idx-collection#1
/* tag::context[] */
/* end::context[] */

/* tag::query[] */
DROP INDEX airline.`idx-name`

-- @ n1ql-language-reference__drop-idx-collection#2
/* end::query[] */

/* tag::alt[] */
DROP INDEX `idx-name` ON airline

-- @ n1ql-language-reference__drop-idx-default#1
/* tag::context[] */
/* end::context[] */

/* tag::query[] */
DROP INDEX `travel-sample`.`idx-callsign` USING GSI

-- @ n1ql-language-reference__drop-idx-default#2
SELECT * FROM system:indexes WHERE name="idx-callsign"

-- @ n1ql-language-reference__drop-idx-default#3
/* end::query[] */

/* tag::alt[] */
DROP INDEX `idx-callsign` ON `travel-sample` USING GSI

-- @ n1ql-language-reference__drop-idx-name#1
DROP INDEX `idx-name` ON `travel-sample`.inventory.airline

-- @ n1ql-language-reference__drop-pri-alt#1
DROP INDEX default:`travel-sample`.inventory.airline.travel_primary

-- @ n1ql-language-reference__drop-pri-name#1
DROP INDEX travel_primary ON `travel-sample`.inventory.airline

-- @ n1ql-language-reference__drop-pri-nameless#1
/* tag::query[] */
DROP PRIMARY INDEX ON `travel-sample`.inventory.airline

-- @ n1ql-language-reference__drop-pri-nameless#2
/* end::query[] */
/* tag::check[] */
SELECT * FROM system:indexes WHERE name = '#primary'

-- @ n1ql-language-reference__explain-idx-filter#1
EXPLAIN SELECT image_direct_url FROM `travel-sample`.inventory.landmark
WHERE image_direct_url IS NOT MISSING

-- @ n1ql-language-reference__explain-idx-predicate#1
EXPLAIN SELECT image_direct_url FROM `travel-sample`.inventory.landmark

-- @ n1ql-language-reference__meta-idx-cas#1
CREATE INDEX idx_hotel_cas ON `travel-sample`.inventory.hotel (META().cas)

-- @ n1ql-language-reference__meta-idx-expire#1
CREATE INDEX idx_airline_expire ON `travel-sample`.inventory.airline (META().expiration)

-- @ n1ql-language-reference__meta-idx-id#1
CREATE INDEX idx_hotel_id ON `travel-sample`.inventory.hotel (META().id)

-- @ n1ql-language-reference__partition-idx#1
CREATE INDEX idx ON `travel-sample`.inventory.airline
(country, name, id)
 PARTITION BY HASH(META().id)

-- @ n1ql-language-reference__select-idx-filter#1
SELECT image_direct_url FROM `travel-sample`.inventory.landmark
WHERE image_direct_url IS NOT MISSING

-- @ n1ql-language-reference__subquery-1#1
SELECT t1.city FROM `travel-sample`.inventory.landmark t1 WHERE t1.city IN (SELECT RAW city FROM `travel-sample`.inventory.airport )

-- @ n1ql-language-reference__subquery-10#1
SELECT x.alt FROM (SELECT geo from `travel-sample`.inventory.airport )[*].geo AS x LIMIT 2

-- @ n1ql-language-reference__subquery-11#1
SELECT x FROM [{"a" : 1, "b" : {"c" : 2}}, {"a" : 3, "b" : {"d" : 4}}][*].b AS x LIMIT 2

-- @ n1ql-language-reference__subquery-12#1
SELECT t1.city, t1.geo.alt FROM `travel-sample`.inventory.airport t1 WHERE (SELECT RAW t2.alt FROM airport.geo t2)[0] > 4000

-- @ n1ql-language-reference__subquery-13#1
SELECT t1.city, t1.geo.alt FROM `travel-sample`.inventory.airport t1 WHERE (SELECT RAW t2.alt FROM t1.geo t2)[0] > 4000

-- @ n1ql-language-reference__subquery-14#1
SELECT name, cnt_reviewers FROM `travel-sample`.inventory.hotel AS t LET cnt_reviewers = (SELECT raw count(*) FROM `travel-sample`.inventory.hotel tmp USE KEYS meta(t).id UNNEST tmp.reviews s WHERE s.ratings.Overall >= 4)[0] WHERE cnt_reviewers >= 6 ORDER BY cnt_reviewers DESC LIMIT 10

-- @ n1ql-language-reference__subquery-2#1
SELECT t1.country, array_agg(t1.city), sum(t1.city_cnt) as apnum FROM (SELECT city, city_cnt, array_agg(airportname) as apnames, country FROM `travel-sample`.inventory.airport GROUP BY city, country LETTING city_cnt = count(city) ) AS t1 WHERE t1.city_cnt > 5 GROUP BY t1.country

-- @ n1ql-language-reference__subquery-3#1
SELECT array_max((SELECT count(city) as cnt FROM `travel-sample`.inventory.airport GROUP BY city)[*].cnt)

-- @ n1ql-language-reference__subquery-5#1
SELECT t1.city, t1.name FROM `travel-sample`.inventory.landmark t1 WHERE t1.city IN SPLIT(t1.name)

-- @ n1ql-language-reference__subquery-6#1
SELECT count(*) FROM `travel-sample`.inventory.airport t WHERE (SELECT RAW t.geo.alt FROM t t1)[0] > 6000

-- @ n1ql-language-reference__subquery-7#1
SELECT array_length((SELECT RAW t1.geo.alt FROM `travel-sample`.inventory.airport t1)) FROM `travel-sample`.inventory.airport LIMIT 4

-- @ n1ql-language-reference__subquery-8#1
SELECT array_length((SELECT RAW t1.geo.alt FROM t t1)) FROM `travel-sample`.inventory.airport t

-- @ n1ql-language-reference__subquery-9#1
SELECT array_length((SELECT RAW t1.geo.alt FROM `travel-sample`.inventory.airport)) FROM `travel-sample`.inventory.airport

-- @ n1ql-language-reference__tmp-idx-collection#1
/* tag::context[] */
/* end::context[] */

/* tag::query[] */
CREATE INDEX `idx-name` ON airline(name) USING GSI

-- @ n1ql-language-reference__tmp-idx-default#1
/* tag::context[] */
/* end::context[] */

/* tag::query[] */
CREATE INDEX `idx-callsign` ON `travel-sample`(callsign) USING GSI

-- @ n1ql-language-reference__tmp-idx-default#2
SELECT * FROM system:indexes WHERE name="idx-callsign"

-- @ n1ql-language-reference__udf-locations-define#1
CREATE FUNCTION locations(vActivity) { (
  SELECT id, name, address, city
  FROM `travel-sample`.inventory.landmark
  WHERE activity = vActivity) }

-- @ n1ql-language-reference__udf-locations-query#1
SELECT l.name, l.city
FROM locations("eat") AS l
WHERE l.city = "Gillingham"

-- @ n1ql-language-reference__udf-locations-test#1
EXECUTE FUNCTION locations("see")

-- @ param-names#1
/* tag::arguments[] */
/* end::arguments[] */

/* tag::statement[] */
SELECT COUNT(*) FROM `travel-sample`.inventory.airport
WHERE country = $country AND geo.alt > $altitude

-- @ param-numbers#1
/* tag::arguments[] */
/* end::arguments[] */

/* tag::statement[] */
SELECT COUNT(*) FROM `travel-sample`.inventory.airport
WHERE country = $1 AND geo.alt > $2

-- @ param-positions#1
/* tag::arguments[] */
/* end::arguments[] */

/* tag::statement[] */
SELECT COUNT(*) FROM `travel-sample`.inventory.airport
WHERE country = ? AND geo.alt > ?

-- @ query__ansi-join-example#1
SELECT *
FROM `travel-sample`.inventory.route r -- <.>
JOIN `travel-sample`.inventory.airline a -- <.>
ON r.airlineid = META(a).id -- <.>
LIMIT 1

-- @ query__ansi-nest-example#1
SELECT *
FROM `travel-sample`.inventory.route r -- <.>
NEST `travel-sample`.inventory.airline a -- <.>
ON r.airlineid = META(a).id -- <.>
LIMIT 1

-- @ query__from-clause#1
SELECT airportname, city
FROM `travel-sample`.inventory.airport

-- @ query__select-clause#1
SELECT "Hello world" AS greeting

-- @ select-get-business-days#1
SELECT GetBusinessDays('02/14/2022', '4/16/2022')

-- @ select-true-alias-get-business-days#1
SELECT CASE 
  WHEN  GetBusinessDays('02/14/2022', '4/16/2022') > 44 THEN "true" 
  ELSE "false" 
  END 
  AS response

-- @ select-true-get-business-days#1
SELECT "true" where GetBusinessDays('02/14/2022', '4/16/2022') > 44

-- @ select__ansi-join-cover#1
-- tag::default[]
CREATE INDEX def_inventory_route_sourceairport
ON `travel-sample`.inventory.route (sourceairport)

-- @ select__ansi-join-cover#2
-- end::default[]

-- tag::cover[]
CREATE INDEX idx_route_src_dst_airline
ON `travel-sample`.inventory.route (sourceairport, destinationairport, airline)

-- @ select__ansi-join-cover#3
-- end::cover[]

-- tag::query[]
SELECT META(route).id route_id, route.airline, route.destinationairport
FROM `travel-sample`.inventory.airport
JOIN `travel-sample`.inventory.route
  ON route.sourceairport = airport.faa
WHERE airport.icao = "EGLL"
ORDER BY route_id

-- @ select__ansi-join-expr#1
SELECT DISTINCT expression.destinationairport
FROM `travel-sample`.inventory.airport JOIN [
  {"destinationairport": "KEF", "sourceairport": "SFO", "type": "route"},
  {"destinationairport": "KEF", "sourceairport": "LHR", "type": "route"}
] AS expression
ON airport.faa = expression.sourceairport
WHERE airport.city = "San Francisco"

-- @ select__ansi-join-inner#1
SELECT route.airlineid, airline.name, route.sourceairport, route.destinationairport
FROM `travel-sample`.inventory.route
INNER JOIN `travel-sample`.inventory.airline
ON route.airlineid = META(airline).id
WHERE route.destinationairport = "SFO"
ORDER BY route.sourceairport

-- @ select__ansi-join-left#1
SELECT DISTINCT  MIN(aport.airportname) AS Airport__Name,
                 MIN(aport.tz) AS Airport__Time,
                 MIN(lmark.name) AS Landmark_Name
FROM `travel-sample`.inventory.airport aport -- <.>
LEFT JOIN `travel-sample`.inventory.landmark lmark -- <.>
  ON aport.city = lmark.city
  AND lmark.country = "United States"
GROUP BY aport.airportname
ORDER BY aport.airportname
LIMIT 4

-- @ select__ansi-join-sub#1
SELECT DISTINCT subquery.destinationairport
FROM `travel-sample`.inventory.airport
JOIN (
  SELECT destinationairport, sourceairport
  FROM `travel-sample`.inventory.route
) AS subquery
ON airport.faa = subquery.sourceairport
WHERE airport.city = "San Francisco"

-- @ select__ansi-nest-inner#1
SELECT *
FROM `travel-sample`.inventory.airport a
  INNER NEST `travel-sample`.inventory.route r
  ON a.faa = r.sourceairport
WHERE a.city = "Toulouse"
ORDER BY a.airportname

-- @ select__ansi-nest-left#1
SELECT *
FROM `travel-sample`.inventory.airport a
  LEFT NEST `travel-sample`.inventory.route r
  ON a.faa = r.sourceairport
WHERE a.city = "Toulouse"
ORDER BY a.airportname

-- @ select__ansi-nest#1
SELECT r.airline, r.equipment, r.stops
FROM `travel-sample`.inventory.route r
  NEST `travel-sample`.inventory.airline a
  ON r.airlineid = META(a).id
WHERE r.sourceairport = "SFO"
AND r.destinationairport = "BOS"

-- @ select__group-by-alias#1
SELECT Hemisphere, COUNT(DISTINCT name) AS LandmarkCount
FROM `travel-sample`.inventory.landmark AS l
GROUP BY CASE
  WHEN l.geo.lon <0 THEN "West"
  ELSE "East"
END AS Hemisphere

-- @ select__group-by-compare-having#1
SELECT city City, COUNT(DISTINCT name) LandmarkCount
FROM `travel-sample`.inventory.landmark
GROUP BY city
HAVING city > "S"
ORDER BY city

-- @ select__group-by-compare-where#1
SELECT city City, COUNT(DISTINCT name) LandmarkCount
FROM `travel-sample`.inventory.landmark
WHERE city > "S"
GROUP BY city
ORDER BY city

-- @ select__group-by-having#1
SELECT city City, COUNT(DISTINCT name) LandmarkCount
FROM `travel-sample`.inventory.landmark
GROUP BY city
HAVING COUNT(DISTINCT name) > 180

-- @ select__group-by-letting#1
SELECT city City, COUNT(DISTINCT name) LandmarkCount
FROM `travel-sample`.inventory.landmark
GROUP BY city
LETTING MinimumThingsToSee = 400
HAVING COUNT(DISTINCT name) > MinimumThingsToSee

-- @ select__group-by#1
SELECT city City, COUNT(DISTINCT name) LandmarkCount
FROM `travel-sample`.inventory.landmark
GROUP BY city
ORDER BY LandmarkCount DESC
LIMIT 4

-- @ select__index-hint#1
EXPLAIN
/* tag::query[] */
SELECT /*+ INDEX (route def_inventory_route_route_src_dst_day) */ id -- <.>
FROM `travel-sample`.inventory.route -- <.>
WHERE sourceairport = "SFO"
LIMIT 1

-- @ select__index-join#1
-- tag::lookup[]
SELECT DISTINCT route.destinationairport, route.stops, route.airline,
  airline.name, airline.callsign
FROM `travel-sample`.inventory.route
  JOIN `travel-sample`.inventory.airline
  ON KEYS route.airlineid
WHERE airline.icao = "SWA"
LIMIT 4

-- @ select__index-join#2
-- end::lookup[]

-- tag::index-req[]
CREATE INDEX route_airlineid ON `travel-sample`.inventory.route(airlineid)

-- @ select__index-join#3
-- end::index-req[]

-- tag::index-opt[]
CREATE INDEX airline_icao ON `travel-sample`.inventory.airline(icao)

-- @ select__index-join#4
-- end::index-opt[]

-- tag::query[]
SELECT * FROM `travel-sample`.inventory.airline
  JOIN `travel-sample`.inventory.route
  ON KEY route.airlineid FOR airline
WHERE airline.icao = "SWA"

-- @ select__index-legacy#1
/* tag::query[] */
SELECT id FROM `travel-sample`.inventory.route
USE INDEX (def_inventory_route_route_src_dst_day USING GSI)
WHERE sourceairport = "SFO"
LIMIT 1

-- @ select__index-nest#1
-- tag::index[]
CREATE INDEX route_airlineid ON `travel-sample`.inventory.route(airlineid)

-- @ select__index-nest#2
-- end::index[]

-- tag::query[]
SELECT *
FROM `travel-sample`.inventory.airline aline
  INNER NEST `travel-sample`.inventory.route rte
  ON KEY rte.airlineid FOR aline
LIMIT 1

-- @ select__index-opt#1
EXPLAIN
/* tag::query[] */
SELECT id
FROM `travel-sample`.inventory.route
WHERE sourceairport = "SFO"
LIMIT 1

-- @ select__limit-expr#1
/* tag::query[] */
SELECT name, address, city, country, url
FROM `travel-sample`.inventory.hotel
WHERE vacancy = true
OFFSET $page * $results
LIMIT $results

-- @ select__limit-number#1
SELECT name, address, city, country, url
FROM `travel-sample`.inventory.hotel
WHERE vacancy = true
LIMIT 2

-- @ select__lookup-join-inner#1
SELECT DISTINCT route.destinationairport, route.stops, route.airline,
  airline.name, airline.callsign
FROM `travel-sample`.inventory.route
  JOIN `travel-sample`.inventory.airline
  ON KEYS route.airlineid
WHERE route.sourceairport = "SFO"
AND route.stops = 0
LIMIT 4

-- @ select__lookup-join-left#1
SELECT route.airline, route.sourceairport, route.destinationairport,
  airline.callsign
FROM `travel-sample`.inventory.route
  LEFT JOIN `travel-sample`.inventory.airline
  ON KEYS route.airlineid
WHERE route.destinationairport = "ATL"
  AND route.sourceairport = "SEA"

-- @ select__lookup-nest#1
SELECT *
FROM `travel-sample`.inventory.route
  INNER NEST `travel-sample`.inventory.airline
  ON KEYS route.airlineid
LIMIT 1

-- @ select__order-by-union#1
SELECT name AS sort, type
  FROM `travel-sample`.inventory.landmark
UNION SELECT name AS sort, type
  FROM `travel-sample`.inventory.hotel
ORDER BY sort ASC
LIMIT 5

-- @ select__order-by#1
SELECT city, name
FROM `travel-sample`.inventory.landmark
ORDER BY city DESC, name ASC
LIMIT 5

-- @ select__ordered-hint#1
/* tag::simple[] */
SELECT /*+ ORDERED */
       a.airportname AS source, r.id AS route, l.name AS airline
FROM `travel-sample`.inventory.airport AS a
JOIN `travel-sample`.inventory.route AS r -- <1>
  ON r.sourceairport = a.faa
JOIN `travel-sample`.inventory.airline AS l -- <2>
  ON r.airlineid = META(l).id
WHERE l.name = "40-Mile Air"

-- @ select__ordered-hint#2
/* end::simple[] */

/* tag::json[] */
SELECT /*+ {"ordered": true} */
       a.airportname AS source, r.id AS route, l.name AS airline
FROM `travel-sample`.inventory.airport AS a
JOIN `travel-sample`.inventory.route AS r -- <1>
  ON r.sourceairport = a.faa
JOIN `travel-sample`.inventory.airline AS l -- <2>
  ON r.airlineid = META(l).id
WHERE l.name = "40-Mile Air"

-- @ select__ordered-hint#3
/* end::json[] */

/* tag::none[] */
SELECT a.airportname AS source, r.id AS route, l.name AS airline
FROM `travel-sample`.inventory.airport AS a
JOIN `travel-sample`.inventory.route AS r -- <1>
  ON r.sourceairport = a.faa
JOIN `travel-sample`.inventory.airline AS l -- <2>
  ON r.airlineid = META(l).id
WHERE l.name = "40-Mile Air"

-- @ select__query-keyspace-idx#1
SELECT t.airportname, t.city
FROM   `travel-sample`.inventory.airport t
WHERE  tz = "America/Anchorage"
       AND geo.alt >= 2100

-- @ select__unnest-array#1
SELECT route.sourceairport, route.destinationairport,
ARRAY item FOR item IN schedule WHEN item.day = 1 END AS Monday_flights
FROM `travel-sample`.inventory.route
WHERE ANY item IN schedule SATISFIES item.day = 1 END
LIMIT 3

-- @ select__unnest-raw#1
SELECT RAW r.author
FROM `travel-sample`.inventory.hotel
UNNEST reviews AS r
WHERE r.ratings.Rooms < 2
LIMIT 4

-- @ select__unnest#1
SELECT route.sourceairport, route.destinationairport, sched.flight, sched.utc
FROM `travel-sample`.inventory.route
UNNEST schedule sched
WHERE  sched.day = 1
LIMIT 3

-- @ select__use-hash-build-hint#1
EXPLAIN
/* tag::query[] */
SELECT /*+ { "use_hash": { "keyspace": "rte", "option": "build" } } */
       COUNT(1) AS Total_Count
FROM `travel-sample`.inventory.airline aline
INNER JOIN `travel-sample`.inventory.route rte
ON (rte.airlineid = META(aline).id)

-- @ select__use-hash-build-legacy#1
EXPLAIN
/* tag::query[] */
SELECT COUNT(1) AS Total_Count
FROM `travel-sample`.inventory.airline aline
INNER JOIN `travel-sample`.inventory.route rte
USE HASH (BUILD)
ON (rte.airlineid = META(aline).id)

-- @ select__use-hash-null-hint#1
EXPLAIN
/* tag::query[] */
SELECT /*+ USE_HASH (aline) */
       COUNT(1) AS Total_Count
FROM `travel-sample`.inventory.route rte
INNER JOIN `travel-sample`.inventory.airline aline
ON rte.airlineid = META(aline).id

-- @ select__use-hash-opt#1
EXPLAIN
/* tag::query[] */
SELECT COUNT(1) AS Total_Count
FROM `travel-sample`.inventory.route rte
INNER JOIN `travel-sample`.inventory.airline aline
ON rte.airlineid = META(aline).id

-- @ select__use-hash-probe-hint#1
EXPLAIN
/* tag::query[] */
SELECT /*+ USE_HASH (aline/PROBE) */
       COUNT(1) AS Total_Count
FROM `travel-sample`.inventory.route rte
INNER JOIN `travel-sample`.inventory.airline aline
ON rte.airlineid = META(aline).id

-- @ select__use-hash-probe-legacy#1
EXPLAIN
/* tag::query[] */
SELECT COUNT(1) AS Total_Count
FROM `travel-sample`.inventory.route rte
INNER JOIN `travel-sample`.inventory.airline aline
USE HASH (PROBE)
ON rte.airlineid = META(aline).id

-- @ select__use-nl-hint#1
EXPLAIN
/* tag::query[] */
SELECT /*+ USE_NL (a) */ -- <.>
       a.airportname AS airport, r.id AS route
FROM `travel-sample`.inventory.route AS r,
     `travel-sample`.inventory.airport AS a -- <.>
WHERE a.faa = r.sourceairport
  AND r.sourceairport = "SFO"
LIMIT 4

-- @ select__use-nl-legacy#1
EXPLAIN
/* tag::query[] */
SELECT a.airportname AS airport, r.id AS route
FROM `travel-sample`.inventory.route AS r
JOIN `travel-sample`.inventory.airport AS a
USE NL
ON a.faa = r.sourceairport
WHERE r.sourceairport = "SFO"
LIMIT 4

-- @ select__use-nl-opt#1
EXPLAIN
/* tag::query[] */
SELECT a.airportname AS airport, r.id AS route
FROM `travel-sample`.inventory.route AS r,
     `travel-sample`.inventory.airport AS a
WHERE a.faa = r.sourceairport
  AND r.sourceairport = "SFO"
LIMIT 4

-- @ services-and-indexes__indexes__create-idx-array#1
CREATE INDEX travel_sched ON `travel-sample`.inventory.route
(DISTINCT ARRAY v.day FOR v IN schedule END)

-- @ services-and-indexes__indexes__create-idx-composite#1
CREATE INDEX travel_info ON `travel-sample`.inventory.airline(name, id, icao, iata)

-- @ services-and-indexes__indexes__create-idx-expr#1
CREATE INDEX travel_cxname ON `travel-sample`.inventory.airport(LOWER(name))

-- @ services-and-indexes__indexes__create-idx-partial#1
CREATE INDEX travel_eat ON `travel-sample`.inventory.landmark(name, id, address)
WHERE activity='eat'

-- @ services-and-indexes__indexes__early-filter-1#1
EXPLAIN SELECT city, name FROM `travel-sample`.inventory.landmark
WHERE city = "Paris" AND activity = "eat"

-- @ services-and-indexes__indexes__early-filter-2#1
EXPLAIN SELECT city, name, address FROM `travel-sample`.inventory.landmark
WHERE city = "Paris" AND activity = "eat"

-- @ services-and-indexes__indexes__early-filter-3#1
EXPLAIN SELECT city, name, address FROM `travel-sample`.inventory.landmark
WHERE LOWER(city) = "paris" AND activity = "eat"

-- @ services-and-indexes__indexes__early-filter-4#1
EXPLAIN SELECT city, name, address FROM `travel-sample`.inventory.landmark
WHERE city = "Paris" AND name LIKE "%Paris%" AND activity = "eat"

-- @ services-and-indexes__indexes__early-filter-idx#1
CREATE INDEX idx_eat_city_name
ON `travel-sample`.inventory.landmark(city DESC, name)
WHERE activity = "eat"

-- @ services-and-indexes__indexes__early-paginate-1#1
EXPLAIN SELECT city, name FROM `travel-sample`.inventory.landmark
WHERE city IS NOT MISSING
ORDER BY city DESC, name OFFSET 100 LIMIT 5

-- @ services-and-indexes__indexes__early-paginate-2#1
EXPLAIN SELECT city, name, address FROM `travel-sample`.inventory.landmark
WHERE city IS NOT MISSING
ORDER BY city DESC, name OFFSET 100 LIMIT 5

-- @ services-and-indexes__indexes__early-paginate-3#1
EXPLAIN SELECT city, name, address FROM `travel-sample`.inventory.landmark
WHERE city IS NOT MISSING
ORDER BY name, city DESC OFFSET 100 LIMIT 5

-- @ services-and-indexes__indexes__early-paginate-4#1
EXPLAIN SELECT city, name, address FROM `travel-sample`.inventory.landmark
WHERE city IS NOT MISSING
ORDER BY city ASC, name OFFSET 100 LIMIT 5

-- @ services-and-indexes__indexes__early-paginate-idx#1
CREATE INDEX idx_landmark_city_name
ON `travel-sample`.inventory.landmark(city DESC, name)

-- @ services-and-indexes__indexes__pushdown-def-city#1
CREATE INDEX def_inventory_landmark_city ON `travel-sample`.inventory.landmark(city)

-- @ services-and-indexes__indexes__replication-nodes#1
CREATE INDEX country_idx ON `travel-sample`.inventory.airport(country, city)
WITH {"nodes": ["node1:8091", "node2:8091", "node3:8091"]}

-- @ services-and-indexes__indexes__replication-num#1
CREATE INDEX country_idx ON `travel-sample`.inventory.airport(country, city)
WITH {"num_replica": 2}

-- @ transactions__multiple#1
/* tag::settings[] */
/* end::settings[] */

/* tag::index[] */
CREATE PRIMARY INDEX ON `travel-sample`.tenant_agent_00.bookings

-- @ transactions__multiple#4
/* end::set[] */

-- Create a booking document
/* tag::upsert[] */
UPSERT INTO `travel-sample`.tenant_agent_00.bookings
VALUES("bf7ad6fa-bdb9-4099-a840-196e47179f03", {
  "date": "07/24/2021",
  "flight": "WN533",
  "flighttime": 7713,
  "price": 964.13,
  "route": "63986"
})

-- @ transactions__multiple#7
/* end::update-1[] */

-- Check the content of the booking and user
/* tag::check-1[] */
SELECT b.*, u.name
FROM `travel-sample`.tenant_agent_00.bookings b
JOIN `travel-sample`.tenant_agent_00.users u
ON b.`user` = META(u).id
WHERE META(b).id = "bf7ad6fa-bdb9-4099-a840-196e47179f03"

-- @ transactions__multiple#10
/* end::update-2[] */

-- Check the content of the booking and user
/* tag::check-2[] */
SELECT b.*, u.name
FROM `travel-sample`.tenant_agent_00.bookings b
JOIN `travel-sample`.tenant_agent_00.users u
ON b.`user` = META(u).id
WHERE META(b).id = "bf7ad6fa-bdb9-4099-a840-196e47179f03"

-- @ transactions__single#1
/* tag::settings[] */
/* end::settings[] */

/* tag::query[] */
UPDATE `travel-sample`.inventory.hotel
SET price = "from £89"
WHERE name = "Glasgow Grand Central"

-- @ utility__advise-cbo#1
ADVISE SELECT * FROM `travel-sample`.inventory.hotel a WHERE a.country = 'France'

-- @ utility__advise-identical#1
ADVISE SELECT * FROM `travel-sample`.inventory.landmark
WHERE city LIKE "Par%" OR city LIKE "Lon%"

-- @ utility__advise-indexes#1
ADVISE SELECT airportname FROM `travel-sample`.inventory.airport
WHERE geo.alt NOT BETWEEN 0 AND 100

-- @ utility__advise-none#1
ADVISE SELECT * FROM `travel-sample`.inventory.landmark LIMIT 5

-- @ utility__advise-optimal#1
ADVISE SELECT city FROM `travel-sample`.inventory.landmark
WHERE city LIKE "Par%" OR city LIKE "Lon%"

-- @ utility__execute-names#1
EXECUTE NameParam
USING {"city": "Paris", "country": "France"}

-- @ utility__execute-numbers#1
EXECUTE NumParam
USING ["Paris", "France"]

-- @ utility__prepare-names#1
PREPARE NameParam AS
SELECT * FROM `travel-sample`.inventory.hotel
WHERE city=$city AND country=$country

-- @ utility__prepare-numbers#1
PREPARE NumParam AS
SELECT * FROM `travel-sample`.inventory.hotel
WHERE city=$1 AND country=$2

-- @ utility__prepare-positions#1
PREPARE NumParam AS
SELECT * FROM `travel-sample`.inventory.hotel
WHERE city=? AND country=?

-- @ utility__statistics-expr-array#2
/* end::update[] */

/* tag::explain[] */
EXPLAIN
/* tag::query[] */
SELECT COUNT(1) FROM `travel-sample`.inventory.hotel
WHERE ANY p IN public_likes SATISFIES p LIKE 'A%' END

-- @ utility__statistics-expr-nested#1
/* tag::indexes[] */
CREATE INDEX idx_reviews_ratings_overall
ON `travel-sample`.inventory.hotel(DISTINCT ARRAY r.ratings.Overall
FOR r IN reviews END)

-- @ utility__statistics-expr-nested#2
/* end::update[] */

/* tag::explain[] */
EXPLAIN
/* tag::query[] */
SELECT COUNT(1) FROM `travel-sample`.inventory.hotel
WHERE ANY r IN reviews SATISFIES r.ratings.Overall = 4 END

-- @ utility__statistics-expr-predicate#1
/* tag::indexes[] */
CREATE INDEX idx_country_city IF NOT EXISTS
ON `travel-sample`.inventory.hotel(country, city)

-- @ utility__statistics-expr-predicate#2
CREATE INDEX idx_city_country IF NOT EXISTS
ON `travel-sample`.inventory.hotel(city, country)

-- @ utility__statistics-expr-predicate#3
/* end::update[] */

/* tag::explain[] */
EXPLAIN
/* tag::query[] */
SELECT COUNT(*) FROM `travel-sample`.inventory.hotel
WHERE country = 'United States' AND free_breakfast = true

-- @ utility__statistics-expr#1
/* tag::indexes[] */
CREATE INDEX idx_country_city ON `travel-sample`.inventory.hotel(country, city)

-- @ utility__statistics-expr#2
CREATE INDEX idx_city_country ON `travel-sample`.inventory.hotel(city, country)

-- @ utility__statistics-expr#3
/* end::update[] */

/* tag::explain[] */
EXPLAIN
/* tag::query[] */
SELECT COUNT(*) FROM `travel-sample`.inventory.hotel WHERE country = 'France'
