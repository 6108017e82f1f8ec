package auth

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"os"
)

// maxKeyFileSize bounds what ReadPrivateKey and ReadPublicKey read; a PEM
// Ed25519 key is about 120 bytes.
const maxKeyFileSize = 64 << 10

// PEM block types of key files.
const (
	pemPrivateKey = "PRIVATE KEY" // PKCS #8 (RFC 5208, RFC 8410)
	pemPublicKey  = "PUBLIC KEY"  // PKIX SubjectPublicKeyInfo (RFC 5280, RFC 8410)
)

// GenerateKey returns a new Ed25519 key pair from crypto/rand.
func GenerateKey() (ed25519.PublicKey, ed25519.PrivateKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("auth: generate key: %w", err)
	}
	return pub, priv, nil
}

// WritePrivateKey writes key to a new file at path as a PEM "PRIVATE KEY"
// block (PKCS #8), readable by its owner only (mode 0600). It refuses to
// overwrite an existing file (the error wraps fs.ErrExist).
func WritePrivateKey(path string, key ed25519.PrivateKey) error {
	if len(key) != ed25519.PrivateKeySize {
		return fmt.Errorf("auth: write private key: %w: %d bytes, want %d", ErrInvalidKey, len(key), ed25519.PrivateKeySize)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("auth: write private key: %w", err)
	}
	if err := writeNewFile(path, pem.EncodeToMemory(&pem.Block{Type: pemPrivateKey, Bytes: der}), 0o600); err != nil {
		return fmt.Errorf("auth: write private key: %w", err)
	}
	return nil
}

// ReadPrivateKey reads a file written by WritePrivateKey. It refuses a
// file whose permission bits allow any access by group or others (mode &
// 0o077 != 0), and a file that is not a PEM "PRIVATE KEY" block holding an
// Ed25519 key.
func ReadPrivateKey(path string) (ed25519.PrivateKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("auth: read private key: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat() // the file opened, not whatever path names now
	if err != nil {
		return nil, fmt.Errorf("auth: read private key: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("auth: read private key %s: %w: not a regular file", path, ErrInvalidKey)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("auth: read private key %s: %w: mode %04o lets group or others access it; chmod 600 it", path, ErrInvalidKey, perm)
	}
	data, err := readLimited(f)
	if err != nil {
		return nil, fmt.Errorf("auth: read private key %s: %w", path, err)
	}
	der, err := pemBlock(data, pemPrivateKey)
	if err != nil {
		return nil, fmt.Errorf("auth: read private key %s: %w", path, err)
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("auth: read private key %s: %w: %w", path, ErrInvalidKey, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("auth: read private key %s: %w: %T is not an Ed25519 key", path, ErrInvalidKey, k)
	}
	return priv, nil
}

// WritePublicKey writes key to a new file at path as a PEM "PUBLIC KEY"
// block (PKIX), mode 0644. It refuses to overwrite an existing file (the
// error wraps fs.ErrExist).
func WritePublicKey(path string, key ed25519.PublicKey) error {
	if len(key) != ed25519.PublicKeySize {
		return fmt.Errorf("auth: write public key: %w: %d bytes, want %d", ErrInvalidKey, len(key), ed25519.PublicKeySize)
	}
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		return fmt.Errorf("auth: write public key: %w", err)
	}
	if err := writeNewFile(path, pem.EncodeToMemory(&pem.Block{Type: pemPublicKey, Bytes: der}), 0o644); err != nil {
		return fmt.Errorf("auth: write public key: %w", err)
	}
	return nil
}

// ReadPublicKey reads a public key file, in either form ParsePublicKey
// accepts.
func ReadPublicKey(path string) (ed25519.PublicKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("auth: read public key: %w", err)
	}
	defer f.Close()
	data, err := readLimited(f)
	if err != nil {
		return nil, fmt.Errorf("auth: read public key %s: %w", path, err)
	}
	pub, err := ParsePublicKey(data)
	if err != nil {
		return nil, fmt.Errorf("auth: read public key %s: %w", path, err)
	}
	return pub, nil
}

// ParsePublicKey parses an Ed25519 public key given either as a PEM
// "PUBLIC KEY" block (PKIX, as WritePublicKey writes it) or as the 32 raw
// key bytes in standard, padded base64 (44 characters). Surrounding white
// space is ignored.
func ParsePublicKey(pemOrBase64 []byte) (ed25519.PublicKey, error) {
	data := bytes.TrimSpace(pemOrBase64)
	if !bytes.HasPrefix(data, []byte("-----BEGIN ")) {
		raw, err := base64.StdEncoding.Strict().DecodeString(string(data))
		if err != nil {
			return nil, fmt.Errorf("auth: parse public key: %w: neither PEM nor base64", ErrInvalidKey)
		}
		if len(raw) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("auth: parse public key: %w: %d bytes, want %d", ErrInvalidKey, len(raw), ed25519.PublicKeySize)
		}
		return ed25519.PublicKey(raw), nil
	}
	der, err := pemBlock(data, pemPublicKey)
	if err != nil {
		return nil, fmt.Errorf("auth: parse public key: %w", err)
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("auth: parse public key: %w: %w", ErrInvalidKey, err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("auth: parse public key: %w: %T is not an Ed25519 key", ErrInvalidKey, k)
	}
	return pub, nil
}

// pemBlock returns the bytes of the single PEM block of the given type in
// data, which may hold nothing else but white space.
func pemBlock(data []byte, typ string) ([]byte, error) {
	b, rest := pem.Decode(data)
	switch {
	case b == nil:
		return nil, fmt.Errorf("%w: no PEM block", ErrInvalidKey)
	case b.Type != typ:
		return nil, fmt.Errorf("%w: PEM block is %q, want %q", ErrInvalidKey, b.Type, typ)
	case len(b.Headers) != 0:
		return nil, fmt.Errorf("%w: PEM block has headers (encrypted keys are not supported)", ErrInvalidKey)
	case len(bytes.TrimSpace(rest)) != 0:
		return nil, fmt.Errorf("%w: data after the PEM block", ErrInvalidKey)
	}
	return b.Bytes, nil
}

// readLimited reads all of f, refusing more than maxKeyFileSize bytes.
func readLimited(f *os.File) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxKeyFileSize {
		return nil, fmt.Errorf("%w: file is over %d bytes", ErrInvalidKey, maxKeyFileSize)
	}
	return data, nil
}

// writeNewFile creates path with mode perm (less the umask), failing if it
// exists, and writes data to it durably. On failure it removes the file.
func writeNewFile(path string, data []byte, perm os.FileMode) (err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(path)
		}
	}()
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	return f.Close()
}
