// Package library keeps the JavaScript libraries of SQL++ user-defined
// functions (Couchbase Query's "external" functions): their model, the
// validation and compilation of their code, and their replicated storage
// as records in a table of their own, so every node holds every library.
//
// A library lives in the global namespace or in a scope (bucket.scope),
// and is kept in one of the two forms Couchbase has served:
//
//   - the functions form (/functions/v1): a list of named function
//     objects, each with an id ("xx:xx:xx:xx:xx:xx:xx:xx") and its own
//     code; each object's code is its own program, whose function named
//     like the object is the one SQL++ calls (helpers may repeat across
//     objects without clashing);
//   - the text form (/evaluator/v1): one JavaScript text whose top-level
//     function declarations are all callable.
//
// Both forms read through either view: a text library lists one function
// object per top-level function declaration (each with the whole text as
// its code, so nothing is lost), and a functions library reads as the
// codes of its objects joined. Writing through the functions form to a
// text library turns it into that form the same way.
//
// Code that does not parse or compile is refused with its line and
// column. For the query engine, Library and Program give a library and
// the compiled program of one of its functions, with the version of the
// record they come from so that a cache can tell when to recompile.
package library
