// Package auth provides party credentials and request tokens: Ed25519 key
// files, Sign for clients and a Verifier, with replay protection, for the
// server.
//
// Every request to the service carries
//
//	Authorization: Bearer <token>
//
// where the token is a JSON Web Token (RFC 7519) in JWS compact form (RFC
// 7515), signed with Ed25519 (RFC 8037) by the requesting party's own key.
// Parties do not trust each other or the network, so a token is bound to
// one party (iss), one service (aud), a short lifetime (iat, exp), one
// request body (bsh) and one use (jti).
//
// # Token format
//
// A token is three segments joined by dots, at most MaxTokenSize (8192)
// bytes in all:
//
//	BASE64URL(header) "." BASE64URL(claims) "." BASE64URL(signature)
//
// BASE64URL is the URL-safe base64 alphabet without padding (RFC 4648 §5),
// in canonical form: unused trailing bits are zero. A token holds no other
// characters than that alphabet and the two dots (no white space, no line
// breaks). The header and the
// claims are each one JSON object, encoded in UTF-8, with no duplicate
// member names and nothing after the object; member names are
// case-sensitive. The signature is the 64-byte Ed25519 signature of the
// ASCII text BASE64URL(header) "." BASE64URL(claims) by the private key of
// the party named in iss.
//
// Header members:
//
//	alg   required  the string "EdDSA"; any other value ("none", "HS256",
//	                "RS256", "Ed25519", ...) is refused
//	typ   optional  the string "JWT"
//	crit  forbidden no critical extensions are understood
//
// Other header members (kid, jwk, jku, x5u, ...) are ignored: the key is
// always the one registered for iss.
//
// Claims:
//
//	iss  required  string, non-empty: the party id; selects the key
//	aud  required  the service id: a string, or an array of exactly that
//	               one string
//	iat  required  NumericDate: issue time
//	exp  required  NumericDate: expiry time
//	nbf  optional  NumericDate: not-before time
//	jti  required  string of 1 to MaxJTILen (128) bytes, unique among the
//	               party's tokens; Sign uses 128 random bits in BASE64URL
//	               (22 characters)
//	bsh  optional  BASE64URL of the SHA-256 of the request body (43
//	               characters); required when the body is not empty
//
// A NumericDate is a JSON number of seconds since 1970-01-01T00:00:00Z,
// integer or not, from 0 to 253402300799 (9999-12-31T23:59:59Z). A claim
// listed above with another JSON type (null included) makes the token
// malformed. Claims not listed are allowed and ignored.
//
// # Checks
//
// Verify accepts a token for a request body at time now iff all of these
// hold, with L the leeway for clock skew (DefaultLeeway, 30 s) and T the
// longest lifetime (DefaultMaxTTL, 5 min):
//
//  1. the token is at most 8192 bytes (checked before any parsing);
//  2. it has the form above, alg is "EdDSA", typ and crit are as above,
//     and every required claim is present with its type;
//  3. the party iss is known and not revoked (VerifierConfig.Keys), and
//     the signature verifies with its key;
//  4. aud is the configured Audience, exactly;
//  5. now < exp + L                 (else "token expired");
//  6. exp <= now + T + L;
//  7. iat <= now + L                (else "token issued in the future");
//  8. nbf <= now + L, if nbf is present;
//  9. iat < exp, and exp - iat <= T (else "token lifetime too long");
//  10. if the body is not empty, bsh is present and equals
//     BASE64URL(SHA-256(body)); if it is empty, bsh is absent or the hash
//     of nothing, 47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU;
//  11. no token with the same iss and jti was accepted before and is
//     still within its exp + L (else "token replayed").
//
// Only a token that passes checks 1 to 10 is recorded for check 11, and it
// is remembered until exp + L, after which check 5 refuses it anyway. The
// record is bounded (VerifierConfig.MaxReplayEntries): when it is full of
// unexpired tokens, new tokens are refused (ErrReplayCacheFull) rather than
// any being forgotten early.
//
// Every refusal is a *TokenError wrapping ErrUnauthenticated; its Reason
// names the failed check in a short phrase that never quotes the token or
// a key: "token too large", "malformed token", "malformed header: <why>",
// "algorithm not allowed", "bad typ header", "unsupported crit header",
// "malformed claims: <why>", "missing <claim> claim", "bad <claim> claim",
// "unknown party", "bad signature", "wrong audience", "token expired",
// "token expires too far in the future", "token issued in the future",
// "token not yet valid", "token expires before it is issued", "token
// lifetime too long", "missing body hash", "body hash mismatch", "token
// replayed", "replay cache full".
//
// # Signing
//
// Sign writes the header {"alg":"EdDSA","typ":"JWT"} and the claims iss,
// aud (a string), iat (now, in whole seconds rounded down), exp (iat plus
// the ttl rounded up to whole seconds; ttl in (0, 5 min]), a fresh jti,
// and bsh when the body is not empty. A token serves one request: sign a
// new one for every request, retries included.
//
// # Example
//
// The party "party-a", whose Ed25519 private key has the seed (standard
// base64)
//
//	IB5YRywcxC7SwmtB1unizAAQE+fESd174ZP/e50YHMM=
//
// and so the public key
//
//	rUhT+uKTq0tnjIhQvE6AVOGU5KngWDKWqmssWMZ91pw=
//
// sends the body {"intent":"demo"} to the service "deconflict.example"
// with this token (split at the dots here):
//
//	eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCJ9.
//	eyJhdWQiOiJkZWNvbmZsaWN0LmV4YW1wbGUiLCJic2giOiJmcmlHYmlsbXhlOUdkUnotN1lyMUdyRkp0NVAwTGxNRGt3ZFdBQmpWNFZ3IiwiZXhwIjoxNzY3MjI1OTAwLCJpYXQiOjE3NjcyMjU2MDAsImlzcyI6InBhcnR5LWEiLCJqdGkiOiJxOG4yWWsweTNiMG00alo2VDljVzFBIn0.
//	LP_IKvoNa7jADDguOuczblgoez5OwmuJUG-ZSC4y4sGXsr00dPFdJlqtS9pupCmfqXLBOSSVyvpkGO52bOK8DQ
//
// whose header and claims decode to
//
//	{"alg":"EdDSA","typ":"JWT"}
//	{"aud":"deconflict.example","bsh":"friGbilmxe9GdRz-7Yr1GrFJt5P0LlMDkwdWABjV4Vw",
//	 "exp":1767225900,"iat":1767225600,"iss":"party-a","jti":"q8n2Yk0y3b0m4jZ6T9cW1A"}
//
// It is valid from 2025-12-31T23:59:30Z (iat - L) until before
// 2026-01-01T00:05:30Z (exp + L), once.
//
// # Key files
//
// A private key file holds one PEM "PRIVATE KEY" block (PKCS #8, RFC 8410)
// and must not be accessible by group or others (mode 0600); a public key
// file holds one PEM "PUBLIC KEY" block (PKIX, RFC 8410). ParsePublicKey
// also accepts the 32 key bytes in standard base64, as in the example.
package auth
