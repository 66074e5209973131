// Package clustersec turns a cluster's shared secret into the keys that
// authenticate and encrypt node-to-node traffic, the way HashiCorp's own
// products do: a memberlist keyring key for gossip, and a cluster
// certificate authority for mutual TLS on gRPC and Raft.
//
// Every node derives the same keys from the same secret, with no
// coordination and no files: HKDF-SHA256 (RFC 5869) expands the secret into
// separate keys, one per purpose (the HKDF info string names the purpose,
// so no derived key says anything about another). The CA key is Ed25519
// from a derived seed, and the CA certificate is built from a fixed
// template and signed with deterministic Ed25519, so every node holds the
// very same CA certificate. Each node then issues itself a leaf
// certificate for a random key of its own at start (Issue); peers accept
// it because the cluster CA signed it, whatever the node's address.
//
// Trust rests on the secret alone: a process without it can derive no
// gossip key and get no certificate the others accept.
package clustersec

import (
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// MinSecretBytes is the shortest secret accepted. Shorter ones are too
// easy to guess offline (a captured handshake or gossip packet lets an
// attacker test guesses at leisure).
const MinSecretBytes = 16

// ServerName is the DNS name every node's certificate carries and every
// client verifies, so that addresses (containers, NAT, loopback aliases)
// play no part in authentication.
const ServerName = "eventide-node"

// GossipKeyBytes is the length of the gossip key: AES-256 in memberlist.
const GossipKeyBytes = 32

// Sentinel errors.
var (
	// ErrWeakSecret: the secret is shorter than MinSecretBytes.
	ErrWeakSecret = errors.New("clustersec: cluster secret too short")
)

// HKDF salt and info strings. Changing any of them changes every derived
// key, and nodes with different versions of them no longer trust each
// other: they are part of the wire protocol.
const (
	hkdfSalt       = "eventide cluster secret v1"
	infoGossipKey  = "eventide/gossip/aes-256 v1"
	infoCASeed     = "eventide/tls/ca-ed25519-seed v1"
	caCommonName   = "eventide cluster CA"
	leafCommonName = "eventide node"
)

// Fixed validity of every certificate. The CA must be the same on every
// node, so it cannot depend on a clock; leaves use the same window so that
// no clock skew between nodes can make one reject another. A leaf lives as
// long as its process, and trust is decided by the secret, not by time.
var (
	notBefore = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	notAfter  = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC) // RFC 5280 4.1.2.5: no expiry
)

// Keys are what a cluster secret derives. Safe for concurrent use.
type Keys struct {
	gossip []byte
	caKey  ed25519.PrivateKey
	caCert *x509.Certificate
	pool   *x509.CertPool
}

// Derive derives the cluster's keys from its secret, or returns
// ErrWeakSecret.
func Derive(secret []byte) (*Keys, error) {
	if len(secret) < MinSecretBytes {
		return nil, fmt.Errorf("%w: %d bytes, at least %d", ErrWeakSecret, len(secret), MinSecretBytes)
	}
	gossip, err := derive(secret, infoGossipKey, GossipKeyBytes)
	if err != nil {
		return nil, err
	}
	seed, err := derive(secret, infoCASeed, ed25519.SeedSize)
	if err != nil {
		return nil, err
	}
	caKey := ed25519.NewKeyFromSeed(seed)
	pub := caKey.Public().(ed25519.PublicKey)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: caCommonName},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
		// Set here rather than left to x509, whose default has changed
		// between Go versions: nodes built by different Go releases must
		// still derive the very same CA.
		SubjectKeyId: keyID(pub),
	}
	// Ed25519 signatures are deterministic, so the DER is the same on
	// every node; rand is not used for it.
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, caKey)
	if err != nil {
		return nil, fmt.Errorf("clustersec: create CA certificate: %w", err)
	}
	caCert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("clustersec: parse CA certificate: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	return &Keys{gossip: gossip, caKey: caKey, caCert: caCert, pool: pool}, nil
}

// derive expands secret into n bytes for one purpose (info).
func derive(secret []byte, info string, n int) ([]byte, error) {
	k, err := hkdf.Key(sha256.New, secret, []byte(hkdfSalt), info, n)
	if err != nil {
		return nil, fmt.Errorf("clustersec: derive %q: %w", info, err)
	}
	return k, nil
}

// keyID is a certificate's subject key identifier: the first 20 bytes of
// the SHA-256 of its public key (RFC 7093 method 1).
func keyID(pub ed25519.PublicKey) []byte {
	sum := sha256.Sum256(pub)
	return sum[:20]
}

// GossipKey returns the memberlist encryption key (GossipKeyBytes long).
func (k *Keys) GossipKey() []byte { return append([]byte(nil), k.gossip...) }

// CACert returns the cluster CA certificate.
func (k *Keys) CACert() *x509.Certificate { return k.caCert }

// Issue creates a fresh random key for one node and a certificate for it
// signed by the cluster CA, valid as a TLS server and client under
// ServerName. nodeID only names the certificate's subject, for logs.
func (k *Keys) Issue(nodeID string) (*Identity, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("clustersec: generate node key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("clustersec: certificate serial: %w", err)
	}
	cn := leafCommonName
	if nodeID != "" {
		cn += " " + nodeID
	}
	tmpl := &x509.Certificate{
		SerialNumber:   serial,
		Subject:        pkix.Name{CommonName: cn},
		NotBefore:      notBefore,
		NotAfter:       notAfter,
		KeyUsage:       x509.KeyUsageDigitalSignature,
		ExtKeyUsage:    []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		DNSNames:       []string{ServerName},
		SubjectKeyId:   keyID(pub),
		AuthorityKeyId: k.caCert.SubjectKeyId,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, k.caCert, pub, k.caKey)
	if err != nil {
		return nil, fmt.Errorf("clustersec: issue node certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("clustersec: parse node certificate: %w", err)
	}
	return &Identity{
		cert: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: priv, Leaf: leaf},
		pool: k.pool,
	}, nil
}

// Identity is one node's TLS identity: its certificate and key, and the
// cluster CA it trusts.
type Identity struct {
	cert tls.Certificate
	pool *x509.CertPool
}

// Certificate returns the node's leaf certificate.
func (id *Identity) Certificate() *x509.Certificate { return id.cert.Leaf }

// ServerTLS returns a TLS 1.3 server config that presents the node's
// certificate and accepts only clients with a certificate of the cluster
// CA; a client without one fails the handshake and never reaches the
// service. Each call returns a new config.
func (id *Identity) ServerTLS() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{id.cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    id.pool,
	}
}

// ClientTLS returns a TLS 1.3 client config that presents the node's
// certificate and accepts only a server with a certificate of the cluster
// CA for ServerName. Each call returns a new config.
func (id *Identity) ClientTLS() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{id.cert},
		RootCAs:      id.pool,
		ServerName:   ServerName,
	}
}

// GenerateSecret returns a new random secret: 32 random bytes in
// URL-safe base64 (43 characters, no padding), printable and safe in an
// environment variable or a file.
func GenerateSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("clustersec: generate secret: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
