package server

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/jackc/pgproto3/v2"
)

// AuthMethod is how clients prove who they are.
type AuthMethod string

// Authentication methods.
const (
	// AuthTrust accepts every client as the user it names. Listen allows it
	// on loopback addresses only, unless Config.AllowNonLoopbackTrust.
	AuthTrust AuthMethod = "trust"
	// AuthPassword asks for the password in clear text; use it with TLS.
	AuthPassword AuthMethod = "password"
	// AuthSCRAM is SCRAM-SHA-256 (RFC 5802, RFC 7677): the password never
	// crosses the wire and the server stores only a verifier.
	AuthSCRAM AuthMethod = "scram-sha-256"
)

// ParseAuthMethod validates a method name as the CLI takes it.
func ParseAuthMethod(s string) (AuthMethod, error) {
	switch m := AuthMethod(strings.ToLower(s)); m {
	case AuthTrust, AuthPassword, AuthSCRAM:
		return m, nil
	}
	return "", fmt.Errorf("unknown authentication method %q (want trust, password or scram-sha-256)", s)
}

// scramIterations is the PBKDF2 iteration count of verifiers the server
// computes from clear-text passwords; Postgres' default.
const scramIterations = 4096

// Credential is what the server knows about a user's password: a SCRAM
// verifier. A clear-text password is turned into one when it is loaded, so
// the server never keeps the password itself.
type Credential struct {
	Salt       []byte
	Iterations int
	StoredKey  []byte
	ServerKey  []byte
}

// NewCredential computes a SCRAM-SHA-256 verifier for password with a
// random salt.
func NewCredential(password string) (Credential, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return Credential{}, err
	}
	return credentialFor(password, salt, scramIterations)
}

func credentialFor(password string, salt []byte, iter int) (Credential, error) {
	salted, err := pbkdf2.Key(sha256.New, password, salt, iter, sha256.Size)
	if err != nil {
		return Credential{}, err
	}
	clientKey := hmacSHA256(salted, "Client Key")
	stored := sha256.Sum256(clientKey)
	return Credential{Salt: salt, Iterations: iter, StoredKey: stored[:], ServerKey: hmacSHA256(salted, "Server Key")}, nil
}

// String renders the verifier in Postgres' rolpassword format:
// SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>.
func (c Credential) String() string {
	b := base64.StdEncoding
	return "SCRAM-SHA-256$" + strconv.Itoa(c.Iterations) + ":" + b.EncodeToString(c.Salt) + "$" +
		b.EncodeToString(c.StoredKey) + ":" + b.EncodeToString(c.ServerKey)
}

// parseVerifier reads the rolpassword format.
func parseVerifier(s string) (Credential, error) {
	rest, ok := strings.CutPrefix(s, "SCRAM-SHA-256$")
	if !ok {
		return Credential{}, errors.New("not a SCRAM-SHA-256 verifier")
	}
	params, keys, ok := strings.Cut(rest, "$")
	iterS, saltS, ok1 := strings.Cut(params, ":")
	storedS, serverS, ok2 := strings.Cut(keys, ":")
	if !ok || !ok1 || !ok2 {
		return Credential{}, errors.New("malformed SCRAM-SHA-256 verifier")
	}
	b := base64.StdEncoding
	iter, err := strconv.Atoi(iterS)
	salt, err1 := b.DecodeString(saltS)
	stored, err2 := b.DecodeString(storedS)
	server, err3 := b.DecodeString(serverS)
	if err != nil || err1 != nil || err2 != nil || err3 != nil || iter < 1 || len(stored) != sha256.Size || len(server) != sha256.Size {
		return Credential{}, errors.New("malformed SCRAM-SHA-256 verifier")
	}
	return Credential{Salt: salt, Iterations: iter, StoredKey: stored, ServerKey: server}, nil
}

// ParseUser reads one user as the --user flag and the users file write it:
// NAME:PASSWORD, where PASSWORD is a clear-text password or a verifier in
// Postgres' SCRAM-SHA-256$... format (as `SELECT rolpassword FROM
// pg_authid` shows it, and as Credential.String writes it).
func ParseUser(s string) (name string, cred Credential, err error) {
	name, pw, ok := strings.Cut(s, ":")
	if !ok || name == "" {
		return "", Credential{}, errors.New("a user is NAME:PASSWORD")
	}
	if strings.HasPrefix(pw, "SCRAM-SHA-256$") {
		cred, err = parseVerifier(pw)
		return name, cred, err
	}
	if pw == "" {
		return "", Credential{}, fmt.Errorf("user %q has an empty password", name)
	}
	cred, err = NewCredential(pw)
	return name, cred, err
}

// LoadUsers reads a users file: one NAME:PASSWORD per line (see ParseUser);
// blank lines and lines starting with # are ignored.
func LoadUsers(path string) (map[string]Credential, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	users := map[string]Credential{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, cred, err := ParseUser(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, n, err)
		}
		users[name] = cred
	}
	return users, sc.Err()
}

func hmacSHA256(key []byte, msg string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return h.Sum(nil)
}

// startup reads the startup packet. It answers SSLRequest with 'S' and a
// TLS handshake when TLS is configured ('N' otherwise), GSSEncRequest with
// 'N', and serves a CancelRequest. It returns the StartupMessage's
// parameters, or ok=false when the connection is done.
func (c *conn) startup() (params map[string]string, ok bool) {
	tlsDone := false
	// A client asks for SSL and GSS encryption at most once each before
	// the StartupMessage; more is a broken or hostile client.
	for range 3 {
		msg, err := c.be.ReceiveStartupMessage()
		if err != nil {
			if !isClosedConnErr(err) {
				c.log.Debug("bad startup packet", "err", err)
				c.fatal(codeProtocolViolation, "invalid startup packet")
			}
			return nil, false
		}
		switch m := msg.(type) {
		case *pgproto3.SSLRequest:
			if c.srv.cfg.TLS == nil || tlsDone {
				if _, err := c.nc.Write([]byte{'N'}); err != nil {
					return nil, false
				}
				continue
			}
			if _, err := c.nc.Write([]byte{'S'}); err != nil {
				return nil, false
			}
			tc := tls.Server(c.nc, c.srv.cfg.TLS)
			ctx, cancel := context.WithTimeout(c.srv.ctx, startupTimeout)
			err := tc.HandshakeContext(ctx)
			cancel()
			if err != nil {
				c.log.Debug("TLS handshake failed", "err", err)
				return nil, false
			}
			c.setConn(tc)
			tlsDone = true
		case *pgproto3.GSSEncRequest:
			if _, err := c.nc.Write([]byte{'N'}); err != nil {
				return nil, false
			}
		case *pgproto3.CancelRequest:
			c.srv.cancelRequest(m.ProcessID, m.SecretKey)
			return nil, false
		case *pgproto3.StartupMessage:
			if c.srv.cfg.RequireTLS && !tlsDone {
				c.fatal(codeInvalidAuthSpec, "this server accepts only TLS connections")
				return nil, false
			}
			if m.Parameters["user"] == "" {
				c.fatal(codeInvalidAuthSpec, "no user name in the startup packet")
				return nil, false
			}
			return m.Parameters, true
		}
	}
	c.fatal(codeProtocolViolation, "too many encryption requests before the startup message")
	return nil, false
}

// authenticate runs the configured method for c.user. It reports false
// after sending a FATAL error. A failure says only that authentication
// failed, whether the user exists or not, as Postgres does.
func (c *conn) authenticate() bool {
	method := c.srv.cfg.Auth
	if method == "" || method == AuthTrust {
		return true
	}
	cred, known := c.srv.cfg.Users[c.user]
	var ok bool
	switch method {
	case AuthPassword:
		ok = c.authCleartext(cred, known)
	case AuthSCRAM:
		ok = c.authSCRAM(cred, known)
	}
	if !ok {
		c.log.Info("authentication failed", "user", c.user, "method", string(method))
		c.fatal(codeInvalidPassword, fmt.Sprintf("password authentication failed for user %q", c.user))
	}
	return ok
}

// receiveAuth reads the client's next authentication message.
func (c *conn) receiveAuth(authType uint32) (pgproto3.FrontendMessage, error) {
	if err := c.be.SetAuthType(authType); err != nil {
		return nil, err
	}
	if err := c.bw.Flush(); err != nil {
		return nil, err
	}
	return c.be.Receive()
}

func (c *conn) authCleartext(cred Credential, known bool) bool {
	c.send(&pgproto3.AuthenticationCleartextPassword{})
	m, err := c.receiveAuth(pgproto3.AuthTypeCleartextPassword)
	if err != nil {
		return false
	}
	pm, isPW := m.(*pgproto3.PasswordMessage)
	if !isPW || !known {
		return false
	}
	check, err := credentialFor(pm.Password, cred.Salt, cred.Iterations)
	return err == nil && subtle.ConstantTimeCompare(check.StoredKey, cred.StoredKey) == 1
}

// authSCRAM is the server side of SCRAM-SHA-256 without channel binding.
// It is written out here rather than taken from a library because it is
// small, the protocol is fixed by two RFCs, and the Go standard library has
// every primitive (hmac, sha256, pbkdf2). An unknown user goes through the
// same exchange with a made-up salt and fails at the proof, so the
// exchange does not reveal which users exist.
func (c *conn) authSCRAM(cred Credential, known bool) bool {
	if !known {
		cred = Credential{Salt: hmacSHA256(c.srv.mockKey[:], c.user)[:16], Iterations: scramIterations,
			StoredKey: make([]byte, sha256.Size), ServerKey: make([]byte, sha256.Size)}
	}
	c.send(&pgproto3.AuthenticationSASL{AuthMechanisms: []string{"SCRAM-SHA-256"}})
	m, err := c.receiveAuth(pgproto3.AuthTypeSASL)
	if err != nil {
		return false
	}
	init, isInit := m.(*pgproto3.SASLInitialResponse)
	if !isInit || init.AuthMechanism != "SCRAM-SHA-256" {
		return false
	}
	// client-first-message = gs2-header client-first-message-bare, where
	// gs2-header is "n,," (no channel binding) or "y,," (client could but
	// thinks the server cannot); an authzid is not supported.
	first := string(init.Data)
	var gs2 string
	switch {
	case strings.HasPrefix(first, "n,,"), strings.HasPrefix(first, "y,,"):
		gs2 = first[:3]
	default:
		return false
	}
	bare := first[3:]
	clientNonce := ""
	for _, attr := range strings.Split(bare, ",") {
		if v, ok := strings.CutPrefix(attr, "r="); ok {
			clientNonce = v
		}
	}
	if clientNonce == "" {
		return false
	}
	nonceBytes := make([]byte, 18)
	if _, err := rand.Read(nonceBytes); err != nil {
		return false
	}
	nonce := clientNonce + base64.StdEncoding.EncodeToString(nonceBytes)
	serverFirst := "r=" + nonce + ",s=" + base64.StdEncoding.EncodeToString(cred.Salt) + ",i=" + strconv.Itoa(cred.Iterations)
	c.send(&pgproto3.AuthenticationSASLContinue{Data: []byte(serverFirst)})
	m, err = c.receiveAuth(pgproto3.AuthTypeSASLContinue)
	if err != nil {
		return false
	}
	resp, isResp := m.(*pgproto3.SASLResponse)
	if !isResp {
		return false
	}
	// client-final-message = channel-binding "," nonce "," proof.
	final := string(resp.Data)
	i := strings.LastIndex(final, ",p=")
	if i < 0 {
		return false
	}
	withoutProof, proofB64 := final[:i], final[i+3:]
	var cbind, gotNonce string
	for _, attr := range strings.Split(withoutProof, ",") {
		switch {
		case strings.HasPrefix(attr, "c="):
			cbind = attr[2:]
		case strings.HasPrefix(attr, "r="):
			gotNonce = attr[2:]
		}
	}
	proof, err := base64.StdEncoding.DecodeString(proofB64)
	if err != nil || len(proof) != sha256.Size || gotNonce != nonce ||
		cbind != base64.StdEncoding.EncodeToString([]byte(gs2)) {
		return false
	}
	authMessage := bare + "," + serverFirst + "," + withoutProof
	clientSig := hmacSHA256(cred.StoredKey, authMessage)
	clientKey := make([]byte, sha256.Size)
	for k := range clientKey {
		clientKey[k] = proof[k] ^ clientSig[k]
	}
	stored := sha256.Sum256(clientKey)
	if subtle.ConstantTimeCompare(stored[:], cred.StoredKey) != 1 || !known {
		return false
	}
	serverSig := hmacSHA256(cred.ServerKey, authMessage)
	c.send(&pgproto3.AuthenticationSASLFinal{Data: []byte("v=" + base64.StdEncoding.EncodeToString(serverSig))})
	if err := c.be.SetAuthType(pgproto3.AuthTypeOk); err != nil {
		return false
	}
	return true
}
