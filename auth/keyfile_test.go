package auth

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPrivateKeyFile(t *testing.T) {
	pub, priv, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "party.key")
	if err := WritePrivateKey(path, priv); err != nil {
		t.Fatalf("WritePrivateKey: %v", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("mode %04o, want 0600", perm)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := pem.Decode(data); b == nil || b.Type != "PRIVATE KEY" {
		t.Errorf("file is not a PEM PRIVATE KEY block:\n%s", data)
	}
	got, err := ReadPrivateKey(path)
	if err != nil {
		t.Fatalf("ReadPrivateKey: %v", err)
	}
	if !got.Equal(priv) || !got.Public().(ed25519.PublicKey).Equal(pub) {
		t.Error("key read back differs")
	}

	// Refuse to overwrite, and leave the file as it was.
	_, other, _ := GenerateKey()
	if err := WritePrivateKey(path, other); !errors.Is(err, fs.ErrExist) {
		t.Errorf("overwrite: err = %v, want fs.ErrExist", err)
	}
	if again, err := os.ReadFile(path); err != nil || string(again) != string(data) {
		t.Errorf("file changed by a refused write (err %v)", err)
	}
}

func TestReadPrivateKeyMode(t *testing.T) {
	_, priv, _ := GenerateKey()
	tests := []struct {
		mode    os.FileMode
		wantErr bool
	}{
		{0o600, false},
		{0o400, false},
		{0o700, false},
		{0o644, true},
		{0o640, true},
		{0o604, true},
		{0o660, true},
		{0o601, true},
		{0o610, true},
		{0o666, true},
	}
	for _, tt := range tests {
		t.Run(tt.mode.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "party.key")
			if err := WritePrivateKey(path, priv); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tt.mode); err != nil {
				t.Fatal(err)
			}
			_, err := ReadPrivateKey(path)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ReadPrivateKey of mode %04o: err = %v, want error %v", tt.mode, err, tt.wantErr)
			}
			if err != nil {
				if !errors.Is(err, ErrInvalidKey) || !strings.Contains(err.Error(), "group or others") {
					t.Errorf("error %q does not say why", err)
				}
			}
		})
	}
}

func TestReadPrivateKeyErrors(t *testing.T) {
	dir := t.TempDir()
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, err := x509.MarshalPKCS8PrivateKey(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	_, priv, _ := GenerateKey()
	edDER, _ := x509.MarshalPKCS8PrivateKey(priv)
	good := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: edDER})
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"not PEM", []byte("hello")},
		{"public key block", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: edDER})},
		{"ECDSA key", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER})},
		{"bad DER", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2, 3}})},
		{"encrypted", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED"}, Bytes: edDER})},
		{"two blocks", append(append([]byte{}, good...), good...)},
		{"too large", append(append([]byte{}, good...), make([]byte, maxKeyFileSize)...)},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "k"+string(rune('a'+i)))
			if err := os.WriteFile(path, tt.data, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := ReadPrivateKey(path); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("ReadPrivateKey: err = %v, want ErrInvalidKey", err)
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		if _, err := ReadPrivateKey(filepath.Join(dir, "none")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("err = %v, want fs.ErrNotExist", err)
		}
	})
	t.Run("directory", func(t *testing.T) {
		sub := filepath.Join(dir, "sub")
		if err := os.Mkdir(sub, 0o700); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadPrivateKey(sub); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("err = %v, want ErrInvalidKey", err)
		}
	})
}

func TestWriteKeyErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name  string
		write func(path string) error
	}{
		{"short private key", func(p string) error { return WritePrivateKey(p, make(ed25519.PrivateKey, 32)) }},
		{"short public key", func(p string) error { return WritePublicKey(p, make(ed25519.PublicKey, 31)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.name)
			if err := tt.write(path); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("err = %v, want ErrInvalidKey", err)
			}
			if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("a file was left behind (stat: %v)", err)
			}
		})
	}
	t.Run("no directory", func(t *testing.T) {
		_, priv, _ := GenerateKey()
		if err := WritePrivateKey(filepath.Join(dir, "none", "k"), priv); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("err = %v, want fs.ErrNotExist", err)
		}
	})
}

func TestPublicKeyFile(t *testing.T) {
	pub, _, _ := GenerateKey()
	path := filepath.Join(t.TempDir(), "party.pub")
	if err := WritePublicKey(path, pub); err != nil {
		t.Fatalf("WritePublicKey: %v", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	// 0644 less the umask: owner read-write, nothing beyond 0644.
	if perm := fi.Mode().Perm(); perm&0o600 != 0o600 || perm&^0o644 != 0 {
		t.Errorf("mode %04o, want 0644", perm)
	}
	got, err := ReadPublicKey(path)
	if err != nil {
		t.Fatalf("ReadPublicKey: %v", err)
	}
	if !got.Equal(pub) {
		t.Error("key read back differs")
	}
	other, _, _ := GenerateKey()
	if err := WritePublicKey(path, other); !errors.Is(err, fs.ErrExist) {
		t.Errorf("overwrite: err = %v, want fs.ErrExist", err)
	}
	if got, _ := ReadPublicKey(path); !got.Equal(pub) {
		t.Error("file changed by a refused write")
	}
}

func TestParsePublicKey(t *testing.T) {
	pub := testKey("alice").Public().(ed25519.PublicKey)
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	pemText := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	std := base64.StdEncoding.EncodeToString(pub)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKIXPublicKey(ecKey.Public())

	tests := []struct {
		name    string
		in      string
		wantErr bool
	}{
		{"PEM", string(pemText), false},
		{"PEM with blank lines", "\n\n" + string(pemText) + "\n\n", false},
		{"base64", std, false},
		{"base64 with newline", std + "\n", false},
		{"empty", "", true},
		{"base64 without padding", strings.TrimRight(std, "="), true},
		{"base64url", base64.URLEncoding.EncodeToString([]byte(strings.Repeat("\xff", 32))), true},
		{"base64 of 31 bytes", base64.StdEncoding.EncodeToString(pub[:31]), true},
		{"base64 of 33 bytes", base64.StdEncoding.EncodeToString(append(pub[:32:32], 0)), true},
		{"hex", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", true},
		{"PEM private key block", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), true},
		{"PEM ECDSA key", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: ecDER})), true},
		{"PEM bad DER", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{0x30, 0}})), true},
		{"PEM then garbage", string(pemText) + "garbage", true},
		{"truncated PEM", string(pemText[:40]), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePublicKey([]byte(tt.in))
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidKey) {
					t.Errorf("ParsePublicKey = %v, %v; want ErrInvalidKey", got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParsePublicKey: %v", err)
			}
			if !got.Equal(pub) {
				t.Error("wrong key")
			}
		})
	}
}
