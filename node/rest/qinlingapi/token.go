package qinlingapi

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Token format. A token is tokenPrefix, the base64url of its claims as
// JSON, a dot, and the base64url of the HMAC-SHA256 of that claims text
// under a key derived from the configured secret. Every node derives the
// same key from the same secret, so any node validates a token another
// issued with no replicated state; nothing but the secret can mint one.
// The prefix, salt and info strings are part of the wire format: changing
// them invalidates every outstanding token.
const (
	tokenPrefix    = "eqt1."
	tokenHKDFSalt  = "eventide qinling keystone tokens v1"
	tokenHKDFInfo  = "eventide/qinling/token-hmac-sha256 v1"
	tokenKeyBytes  = 32
	maxTokenLength = 4096
)

// Token errors; the API answers each with a 401.
var (
	errTokenMalformed = errors.New("qinlingapi: malformed token")
	errTokenForged    = errors.New("qinlingapi: token signature mismatch")
	errTokenExpired   = errors.New("qinlingapi: token expired")
)

// claims is what a token asserts. Short JSON names keep the header small.
type claims struct {
	User        string `json:"u"`
	ProjectID   string `json:"p"`
	ProjectName string `json:"pn"`
	Admin       bool   `json:"a,omitempty"`
	IssuedAt    int64  `json:"iat"` // Unix microseconds
	ExpiresAt   int64  `json:"exp"` // Unix microseconds
	// AuditID makes each token unique and is Keystone's audit_ids entry.
	AuditID string `json:"aid"`
}

func (c claims) issued() time.Time  { return time.UnixMicro(c.IssuedAt).UTC() }
func (c claims) expires() time.Time { return time.UnixMicro(c.ExpiresAt).UTC() }

// tokenSigner issues and verifies tokens under one key.
type tokenSigner struct {
	key []byte
}

// newTokenSigner derives the signing key from secret.
func newTokenSigner(secret []byte) (*tokenSigner, error) {
	key, err := hkdf.Key(sha256.New, secret, []byte(tokenHKDFSalt), tokenHKDFInfo, tokenKeyBytes)
	if err != nil {
		return nil, fmt.Errorf("qinlingapi: derive token key: %w", err)
	}
	return &tokenSigner{key: key}, nil
}

func (s *tokenSigner) mac(payload string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(payload))
	return m.Sum(nil)
}

// issue returns a token for c, filling its audit id.
func (s *tokenSigner) issue(c *claims) (string, error) {
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		return "", fmt.Errorf("qinlingapi: token audit id: %w", err)
	}
	c.AuditID = base64.RawURLEncoding.EncodeToString(id[:])
	body, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("qinlingapi: encode token: %w", err)
	}
	payload := base64.RawURLEncoding.EncodeToString(body)
	return tokenPrefix + payload + "." + base64.RawURLEncoding.EncodeToString(s.mac(payload)), nil
}

// verify checks tok's signature and expiry at now and returns its claims.
func (s *tokenSigner) verify(tok string, now time.Time) (claims, error) {
	if len(tok) > maxTokenLength || !strings.HasPrefix(tok, tokenPrefix) {
		return claims{}, errTokenMalformed
	}
	payload, sig, ok := strings.Cut(strings.TrimPrefix(tok, tokenPrefix), ".")
	if !ok {
		return claims{}, errTokenMalformed
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return claims{}, errTokenMalformed
	}
	// The signature is checked before the claims are even decoded: nothing
	// an attacker wrote is parsed.
	if !hmac.Equal(got, s.mac(payload)) {
		return claims{}, errTokenForged
	}
	body, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return claims{}, errTokenMalformed
	}
	var c claims
	if err := json.Unmarshal(body, &c); err != nil || c.User == "" || c.ProjectID == "" {
		return claims{}, errTokenMalformed
	}
	if !now.Before(c.expires()) {
		return claims{}, errTokenExpired
	}
	return c, nil
}

// ProjectID is the id of the project named name: the hex MD5 of the name,
// 32 hex digits like Keystone's ids. Every node derives the same id from
// the same name, so projects need no replicated registry.
func ProjectID(name string) string {
	sum := md5.Sum([]byte("eventide project\x00" + name))
	return hex.EncodeToString(sum[:])
}

// userID is the id of the user named name, derived like ProjectID.
func userID(name string) string {
	sum := md5.Sum([]byte("eventide user\x00" + name))
	return hex.EncodeToString(sum[:])
}
