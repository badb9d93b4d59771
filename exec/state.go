package exec

// StateStore is one stateful operator's state in one task: an ordered
// key-value store under the operator's own key prefix (DESIGN.md decision
// 6). Keys are compared bytewise; use storage's order-preserving encodings
// (storage.AppendInt64, AppendString, ...) so that range scans serve windows
// and joins.
//
// Writes are buffered by the runtime and become durable, together with
// their changelog records and the task's input offsets, when the task's
// cycle commits; reads see the task's own uncommitted writes. A store is
// used by its task's goroutine only.
type StateStore interface {
	// Get returns the value of key. The returned slice is valid until the
	// next call on the store; copy it to keep it.
	Get(key []byte) (val []byte, ok bool, err error)
	// Put sets key to val. The store copies both.
	Put(key, val []byte) error
	// Delete removes key.
	Delete(key []byte) error
	// Scan calls fn for every key in [lower, upper) in key order until fn
	// returns false. A nil upper means no upper bound. key and val are valid
	// only during the call.
	Scan(lower, upper []byte, fn func(key, val []byte) bool) error
}

// StateOpener opens the state of the operator named name (unique within the
// query, e.g. "Aggregate-0") for the task. The runtime supplies it through
// TaskContext.OpenState.
type StateOpener func(name string) (StateStore, error)

// deleteRange deletes every key of st in [lower, upper).
func deleteRange(st StateStore, lower, upper []byte) error {
	var keys [][]byte
	err := st.Scan(lower, upper, func(k, _ []byte) bool {
		keys = append(keys, append([]byte(nil), k...))
		return true
	})
	for _, k := range keys {
		if err == nil {
			err = st.Delete(k)
		}
	}
	return err
}
