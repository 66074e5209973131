package clustersec

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"testing"
	"time"
)

func mustDerive(t *testing.T, secret string) *Keys {
	t.Helper()
	k, err := Derive([]byte(secret))
	if err != nil {
		t.Fatalf("Derive: %v", err)
	}
	return k
}

func mustIssue(t *testing.T, k *Keys, id string) *Identity {
	t.Helper()
	ident, err := k.Issue(id)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	return ident
}

const (
	secretA = "correct horse battery staple A"
	secretB = "correct horse battery staple B"
)

func TestDerive_SameSecretSameKeys(t *testing.T) {
	a1, a2 := mustDerive(t, secretA), mustDerive(t, secretA)
	if !bytes.Equal(a1.GossipKey(), a2.GossipKey()) {
		t.Fatal("the same secret derived two gossip keys")
	}
	if !bytes.Equal(a1.CACert().Raw, a2.CACert().Raw) {
		t.Fatal("the same secret derived two different CA certificates")
	}
	if n := len(a1.GossipKey()); n != GossipKeyBytes {
		t.Fatalf("gossip key is %d bytes, want %d", n, GossipKeyBytes)
	}
}

func TestDerive_DifferentSecretDifferentKeys(t *testing.T) {
	a, b := mustDerive(t, secretA), mustDerive(t, secretB)
	if bytes.Equal(a.GossipKey(), b.GossipKey()) {
		t.Fatal("two secrets derived the same gossip key")
	}
	if bytes.Equal(a.CACert().PublicKey.(ed25519.PublicKey), b.CACert().PublicKey.(ed25519.PublicKey)) {
		t.Fatal("two secrets derived the same CA key")
	}
}

// TestDerive_DomainSeparated checks that each purpose has its own key:
// learning one (say the gossip key, from a memory dump of a gossip
// library) must tell nothing about the CA key.
func TestDerive_DomainSeparated(t *testing.T) {
	secret := []byte(secretA)
	gossip, err := derive(secret, infoGossipKey, 32)
	if err != nil {
		t.Fatal(err)
	}
	seed, err := derive(secret, infoCASeed, 32)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(gossip, seed) {
		t.Fatal("the gossip key and the CA seed are the same bytes")
	}
	if !bytes.Equal(mustDerive(t, secretA).GossipKey(), gossip) {
		t.Fatal("Derive does not use the gossip purpose")
	}
}

func TestDerive_RejectsWeakSecret(t *testing.T) {
	for _, s := range []string{"", "short", "fifteen bytes!!"} {
		if _, err := Derive([]byte(s)); !errors.Is(err, ErrWeakSecret) {
			t.Errorf("Derive(%q) = %v, want ErrWeakSecret", s, err)
		}
	}
	if _, err := Derive([]byte("sixteen bytes!!!")); err != nil {
		t.Errorf("a 16-byte secret was refused: %v", err)
	}
}

func TestIssue_LeafVerifiesOnAnotherNode(t *testing.T) {
	n1 := mustIssue(t, mustDerive(t, secretA), "n1")
	other := mustDerive(t, secretA) // another node, same secret
	for _, usage := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
		roots := x509.NewCertPool()
		roots.AddCert(other.CACert())
		_, err := n1.Certificate().Verify(x509.VerifyOptions{
			Roots: roots, DNSName: ServerName, KeyUsages: []x509.ExtKeyUsage{usage},
		})
		if err != nil {
			t.Fatalf("n1's certificate does not verify (usage %v) on a node with the same secret: %v", usage, err)
		}
	}
}

func TestIssue_LeafFailsWithOtherSecret(t *testing.T) {
	n1 := mustIssue(t, mustDerive(t, secretA), "n1")
	roots := x509.NewCertPool()
	roots.AddCert(mustDerive(t, secretB).CACert())
	if _, err := n1.Certificate().Verify(x509.VerifyOptions{Roots: roots, DNSName: ServerName}); err == nil {
		t.Fatal("a certificate of one secret's CA verified against another secret's CA")
	}
}

func TestIssue_FreshKeyPerNode(t *testing.T) {
	k := mustDerive(t, secretA)
	a, b := mustIssue(t, k, "n1"), mustIssue(t, k, "n1")
	if bytes.Equal(a.Certificate().PublicKey.(ed25519.PublicKey), b.Certificate().PublicKey.(ed25519.PublicKey)) {
		t.Fatal("two issued identities share a key")
	}
}

// handshake runs a TLS handshake between client and server configs over
// an in-memory pipe and returns both sides' errors.
func handshake(t *testing.T, client, server *tls.Config) (clientErr, serverErr error) {
	t.Helper()
	c, s := net.Pipe()
	defer c.Close()
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		srv := tls.Server(s, server)
		err := srv.HandshakeContext(ctx)
		if err == nil {
			// TLS 1.3 clients finish before the server has checked their
			// certificate; a read makes the server's verdict reach them.
			_, err = srv.Write([]byte{1})
		} else {
			_ = s.Close()
		}
		done <- err
	}()
	cl := tls.Client(c, client)
	clientErr = cl.HandshakeContext(ctx)
	if clientErr == nil {
		_, clientErr = cl.Read(make([]byte, 1))
	}
	_ = c.Close()
	return clientErr, <-done
}

func TestTLS_MutualHandshake(t *testing.T) {
	a1 := mustIssue(t, mustDerive(t, secretA), "n1")
	a2 := mustIssue(t, mustDerive(t, secretA), "n2")
	b := mustIssue(t, mustDerive(t, secretB), "x")
	noCert := a2.ClientTLS()
	noCert.Certificates = nil
	cases := []struct {
		name   string
		client *tls.Config
		ok     bool
	}{
		{"same secret", a2.ClientTLS(), true},
		{"client of another secret", b.ClientTLS(), false},
		{"client without a certificate", noCert, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cerr, serr := handshake(t, tc.client, a1.ServerTLS())
			if tc.ok && (cerr != nil || serr != nil) {
				t.Fatalf("handshake failed: client %v, server %v", cerr, serr)
			}
			if !tc.ok && (cerr == nil || serr == nil) {
				t.Fatalf("handshake succeeded: client %v, server %v", cerr, serr)
			}
		})
	}
}

func TestTLS_ClientRefusesServerOfAnotherSecret(t *testing.T) {
	a := mustIssue(t, mustDerive(t, secretA), "n1")
	b := mustIssue(t, mustDerive(t, secretB), "x")
	cerr, _ := handshake(t, a.ClientTLS(), b.ServerTLS())
	if cerr == nil {
		t.Fatal("a client accepted a server of another secret's CA")
	}
}

func TestGenerateSecret(t *testing.T) {
	s1, err := GenerateSecret()
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := GenerateSecret()
	if s1 == s2 {
		t.Fatal("two generated secrets are equal")
	}
	if _, err := Derive([]byte(s1)); err != nil {
		t.Fatalf("a generated secret is refused: %v", err)
	}
}
