package engine

import (
	"errors"

	"eventide/docstore"
	"eventide/query/ast"
)

// runCreateIndex creates a primary or secondary index; the definition
// stored is the statement's canonical text, which CompileIndex reads.
func (x *exec) runCreateIndex(s *ast.CreateIndex) error {
	ref, err := x.resolveKeyspace(s.Keyspace)
	if err != nil {
		return err
	}
	if ref.system != "" {
		return newErr(CodeKeyspaceMissing, "Keyspace not found in CB datastore: system:%s - cause: system keyspaces cannot be indexed", ref.system)
	}
	name := s.Name
	if s.Primary && name == "" {
		name = "#primary"
	}
	def := []byte(s.String())
	if !s.Primary {
		if _, err := CompileIndex(ref.ks, def); err != nil {
			return newErr(CodeSyntax, "%v", err)
		}
	}
	err = x.store().CreateIndex(x.ctx, ref.ks, name, def, s.Primary, s.IfNotExists)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, docstore.ErrExists):
		return newErr(CodeIndexExists, "The index %s already exists.", name)
	case errors.Is(err, docstore.ErrBucketNotFound), errors.Is(err, docstore.ErrScopeNotFound), errors.Is(err, docstore.ErrCollectionNotFound):
		return keyspaceErr(ref.ks, err)
	}
	return x.storeErr(err)
}

func (x *exec) runDropIndex(s *ast.DropIndex) error {
	ref, err := x.resolveKeyspace(s.Keyspace)
	if err != nil {
		return err
	}
	name := s.Name
	if name == "" {
		name = "#primary"
	}
	err = x.store().DropIndex(x.ctx, ref.ks, name, s.IfExists)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, docstore.ErrIndexNotFound):
		return newErr(CodeIndexNotFound, "Index Not Found - cause: GSI index %s not found.", name)
	}
	return x.storeErr(err)
}

// storeErr reports a store failure, a timeout when the context ended.
func (x *exec) storeErr(err error) error {
	if x.ctx.Err() != nil {
		return x.checkCtx()
	}
	return newErr(CodeInternal, "%v", err)
}
