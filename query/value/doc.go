// Package value is the SQL++ (N1QL) value model: MISSING, NULL, booleans,
// numbers (int64 kept exact where the JSON was an integer, float64
// otherwise), strings, arrays, objects and non-JSON binary, with Couchbase's
// semantics.
//
// Values are immutable once built; they may be shared between goroutines.
// Field and element access yields MISSING where Couchbase does. Collate is
// Couchbase's total collation order (MISSING < NULL < FALSE < TRUE < numbers
// < strings < arrays < objects < binary); Equal, Less and the logic
// operators are three-valued as in Couchbase's expression package.
// EncodeKey is a prefix-free binary encoding whose byte order agrees with
// Collate, for index keys in a B-tree.
//
// Objects normally keep their keys sorted (Couchbase emits document and
// result objects with sorted keys); NewOrderedObject keeps insertion order
// for projections whose order must be preserved.
//
// One deliberate difference: Couchbase compares an integer with a float by
// converting the integer to float64, which is not transitive beyond 2^53;
// this package compares them exactly, so Collate is a total order and
// EncodeKey can agree with it.
package value
