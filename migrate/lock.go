package migrate

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"
)

// The apply lock. See the package documentation for the design; in short:
// every lock operation is a record appended to the single-partition lock
// stream, and every applier computes the holder by folding the same records
// in offset order, so they all agree on who holds it without trusting their
// clocks for anything but lease expiry.

// Lock actions, the ACTION column of the lock stream.
const (
	actionAcquire = "ACQUIRE"
	actionRenew   = "RENEW"
	actionRelease = "RELEASE"
)

// lockKey is the LOCK_KEY of every record: one lock per project metadata.
const lockKey = "apply"

// ErrLocked is wrapped by the error Apply returns when another applier
// holds the lock past the wait (LockedError says who).
var ErrLocked = errors.New("another applier holds the migrations lock")

// LockedError says who holds the apply lock.
type LockedError struct {
	Owner   string
	Since   time.Time
	Expires time.Time // when its lease runs out unless it renews
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("another applier (%s) holds the migrations lock since %s and is applying migrations; "+
		"run apply again when it is done, or wait for it with --wait (its lease runs until %s if it stopped without releasing it)",
		e.Owner, e.Since.Format(time.RFC3339), e.Expires.Format(time.RFC3339))
}

func (e *LockedError) Unwrap() error { return ErrLocked }

// ErrLockLost is returned when an applier finds, before a statement, that
// its lease had expired and another applier took the lock. It stops at once
// without running the statement.
var ErrLockLost = errors.New("lost the migrations lock")

// lockRecord is one record of the lock stream.
type lockRecord struct {
	time    int64 // ROWTIME, ms: the time the engine accepted the record
	owner   string
	action  string
	leaseMs int64
}

// holder is the outcome of folding the lock records.
type holder struct {
	owner   string
	since   int64
	expires int64
}

// foldLock computes the lock's holder after recs, in offset order. The
// rules are the lock's whole semantics:
//
//   - ACQUIRE takes the lock if it is free, held by the same owner, or the
//     holder's lease had run out at the ACQUIRE's time; otherwise it is
//     ignored, and its owner finds out by folding.
//   - RENEW by the holder extends its lease from the RENEW's time; by anyone
//     else it is ignored.
//   - RELEASE by the holder frees the lock; by anyone else it is ignored.
//
// Times are record timestamps from the log, so every reader decides the
// same, whatever its own clock says.
func foldLock(recs []lockRecord) *holder {
	var h *holder
	for _, r := range recs {
		switch r.action {
		case actionAcquire:
			if h == nil || h.owner == r.owner || r.time >= h.expires {
				since := r.time
				if h != nil && h.owner == r.owner {
					since = h.since
				}
				h = &holder{owner: r.owner, since: since, expires: r.time + r.leaseMs}
			}
		case actionRenew:
			if h != nil && h.owner == r.owner {
				h.expires = r.time + r.leaseMs
			}
		case actionRelease:
			if h != nil && h.owner == r.owner {
				h = nil
			}
		}
	}
	return h
}

// applyLock is one applier's handle on the lock.
type applyLock struct {
	s     Session
	cfg   Config
	owner string
	lease time.Duration
	poll  time.Duration
}

// newOwner names this applier: host and process for the humans reading
// "held by", random bits so that two appliers never share a name.
func newOwner() string {
	host, _ := os.Hostname()
	if host == "" {
		host = "unknown-host"
	}
	var b [6]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s/pid-%d/%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

func (l *applyLock) read(ctx context.Context) ([]lockRecord, error) {
	// The lock stream has one partition, and a pull query over a stream
	// returns its rows in offset order: the row order is the log order.
	// (Pull queries do not serve ROWOFFSET, as in ksqlDB.)
	t, err := l.s.Query(ctx, fmt.Sprintf(`SELECT ROWTIME, OWNER, ACTION, LEASE_MS FROM %s;`, l.cfg.LockName))
	if err != nil {
		return nil, fmt.Errorf("read the migrations lock %s: %w", l.cfg.LockName, err)
	}
	recs := make([]lockRecord, 0, len(t.Rows))
	for _, r := range t.Rows {
		if len(r) != 4 {
			return nil, fmt.Errorf("read the migrations lock: got %d columns, want 4", len(r))
		}
		ts, err1 := strconv.ParseInt(r[0].Text, 10, 64)
		lease, err2 := strconv.ParseInt(r[3].Text, 10, 64)
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("read the migrations lock: bad record: %w", err)
		}
		recs = append(recs, lockRecord{time: ts, owner: r[1].Text, action: r[2].Text, leaseMs: lease})
	}
	return recs, nil
}

func (l *applyLock) append(ctx context.Context, action string) error {
	stmt := fmt.Sprintf(`INSERT INTO %s (LOCK_KEY, OWNER, ACTION, LEASE_MS) VALUES (%s, %s, %s, %d);`,
		l.cfg.LockName, quote(lockKey), quote(l.owner), quote(action), l.lease.Milliseconds())
	if err := l.s.Exec(ctx, stmt); err != nil {
		return fmt.Errorf("write %s to the migrations lock %s: %w", action, l.cfg.LockName, err)
	}
	return nil
}

// appendAndCheck appends action and reports the holder after it. The
// INSERT returns once the record is acknowledged, and a pull query reads up
// to the end as of its start, so the fold includes the record.
func (l *applyLock) appendAndCheck(ctx context.Context, action string) (*holder, error) {
	if err := l.append(ctx, action); err != nil {
		return nil, err
	}
	recs, err := l.read(ctx)
	if err != nil {
		return nil, err
	}
	return foldLock(recs), nil
}

// acquire takes the lock, waiting up to wait for another holder to release
// it or for its lease to run out. While the lock is visibly held, it only
// reads; it appends an ACQUIRE when the lock looks free, and the fold then
// says whether that ACQUIRE won.
func (l *applyLock) acquire(ctx context.Context, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	retries := 0
	for {
		recs, err := l.read(ctx)
		if err != nil {
			return err
		}
		h := foldLock(recs)
		if h == nil || h.owner == l.owner || h.expires <= time.Now().UnixMilli() {
			if h, err = l.appendAndCheck(ctx, actionAcquire); err != nil {
				return err
			}
			if h != nil && h.owner == l.owner {
				return nil
			}
		}
		if !time.Now().Before(deadline) {
			if h == nil && retries < 3 {
				// Lost a race to an applier that has released meanwhile:
				// not "held", but still not ours; try again at once.
				retries++
				continue
			}
			if h == nil {
				return fmt.Errorf("%w: other appliers kept taking it", ErrLocked)
			}
			return &LockedError{Owner: h.owner, Since: time.UnixMilli(h.since), Expires: time.UnixMilli(h.expires)}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(l.poll):
		}
	}
}

// renew extends the lease and checks that this applier still holds the
// lock: the fence before each statement.
func (l *applyLock) renew(ctx context.Context) error {
	h, err := l.appendAndCheck(ctx, actionRenew)
	if err != nil {
		return err
	}
	if h == nil || h.owner != l.owner {
		who := "nobody"
		if h != nil {
			who = h.owner
		}
		return fmt.Errorf("%w: the lease ran out (longer than %s without renewal) and the lock is now held by %s", ErrLockLost, l.lease, who)
	}
	return nil
}

// release frees the lock. It runs on a context of its own, so that an
// applier stopped by its context still releases.
func (l *applyLock) release(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	return l.append(ctx, actionRelease)
}
