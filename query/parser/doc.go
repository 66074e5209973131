// Package parser reads SQL++ (N1QL) text into the trees of query/ast.
//
// It is a hand-written recursive-descent parser over a token slice,
// following the grammar of Couchbase Server 7.6 (parser/n1ql in
// couchbase/query): Parse takes one statement, ParseExpression one
// expression (as index keys and inline function bodies are stored).
//
// # Lexing
//
// Keywords are case-insensitive and Couchbase's reserved words (ast.
// IsReserved) must be back-quoted to serve as identifiers, also after a
// dot; `name`i is a case-insensitive identifier. Strings take single or
// double quotes with JSON escapes (plus \' and \`); inside '...' and
// `...` a doubled quote stands for itself. Numbers are int64 when they fit,
// float64 otherwise. Parameters are $name or @name (named), $1 (positional)
// and ? (positional, numbered in order of appearance). Comments are -- to
// the end of the line and /* */; optimizer hints (/*+ ... */) are read as
// comments.
//
// # Precedence
//
// Lowest first, as in Couchbase: OR; AND; prefix NOT; = == != <>;
// < <= > >=; [NOT] LIKE [ESCAPE]; [NOT] BETWEEN; [NOT] IN and [NOT]
// WITHIN; prefix EXISTS; postfix IS [NOT] NULL|MISSING|VALUED|KNOWN|
// UNKNOWN; IS [NOT] DISTINCT FROM; ||; + -; * / % ^; unary -; then paths
// (.name, .[expr], [i], [i:j], [*]). Each comparison level is
// non-associative: a = b = c is refused, a = b < c is a = (b < c).
// BETWEEN's bounds are arithmetic expressions, so the AND that follows the
// high bound is the logical one.
//
// # Statements
//
// SELECT (WITH, RAW/ELEMENT/VALUE, DISTINCT, FROM-first form, keyspace
// paths with namespaces, USE KEYS/INDEX, lookup, index and ANSI JOIN/NEST,
// comma joins, UNNEST/FLATTEN, LET, WHERE, GROUP BY/LETTING/HAVING,
// aggregate FILTER, UNION/INTERSECT/EXCEPT [ALL], ORDER BY ... NULLS,
// LIMIT/OFFSET), INSERT/UPSERT (VALUES and SELECT forms, OPTIONS),
// UPDATE (SET/UNSET with FOR ... END), DELETE, MERGE (lookup and ANSI),
// CREATE [PRIMARY] INDEX, DROP [PRIMARY] INDEX, BUILD INDEX, EXPLAIN,
// ADVISE, INFER, PREPARE, EXECUTE, CREATE/DROP FUNCTION (inline and
// JavaScript) and EXECUTE FUNCTION. Not parsed: window functions (OVER),
// transactions, UPDATE STATISTICS, ALTER INDEX, sequences, roles, EXCLUDE.
//
// # Errors
//
// Every refusal is a *SyntaxError with Couchbase's code and message. Syntax
// errors are code 3000 with Couchbase's text, e.g.
//
//	syntax error - line 1, column 10, near 'SELECT * ', at: FRO
//	syntax error - at end of input
//
// (the "near" text is up to 20 characters before the error on its line;
// " (reserved word)" is added when the offending token is one). Rules the
// grammar enforces read "... (near line L, column C)". The semantic checks
// Couchbase runs right after parsing that need no catalogue are made here
// too, with their codes: mixed lookup and ANSI joins (3200), hints on the
// right of a lookup join (3110, 3120, 3130), and MERGE INSERT keys (3150,
// 3160). Like Couchbase, the parser trims surrounding white space first,
// and positions count in the trimmed text.
package parser
