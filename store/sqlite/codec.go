package sqlite

import (
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/batonhq/baton"
)

// Times are stored as microseconds since the Unix epoch: sortable, compact,
// and the precision PostgreSQL keeps too.
func ts(t time.Time) int64 { return t.UTC().UnixMicro() }

func tsPtr(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: ts(*t), Valid: true}
}

func fromTS(v int64) time.Time { return time.UnixMicro(v).UTC() }

func fromTSPtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromTS(v.Int64)
	return &t
}

// jsonCol encodes a map or slice for a JSON column; empty values are NULL.
func jsonCol[T any](v T, empty bool) (sql.NullString, error) {
	if empty {
		return sql.NullString{}, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return sql.NullString{}, baton.Errorf(baton.EINVALID, "encode %T: %w", v, err)
	}
	return sql.NullString{String: string(b), Valid: true}, nil
}

func mapCol[K comparable, V any](m map[K]V) (sql.NullString, error) { return jsonCol(m, m == nil) }
func sliceCol[T any](s []T) (sql.NullString, error)                 { return jsonCol(s, len(s) == 0) }

func decodeJSON(col sql.NullString, into any, what string) error {
	if !col.Valid || col.String == "" {
		return nil
	}
	if err := json.Unmarshal([]byte(col.String), into); err != nil {
		return fmt.Errorf("decode %s: %w", what, err)
	}
	return nil
}

// rawCol checks and stores caller-supplied JSON.
func rawCol(raw json.RawMessage, what string) (sql.NullString, error) {
	if len(raw) == 0 {
		return sql.NullString{}, nil
	}
	if !json.Valid(raw) {
		return sql.NullString{}, baton.Errorf(baton.EINVALID, "%s is not valid JSON", what)
	}
	return sql.NullString{String: string(raw), Valid: true}, nil
}

func fromRaw(col sql.NullString) json.RawMessage {
	if !col.Valid {
		return nil
	}
	return json.RawMessage(col.String)
}

// Vectors are float32 little-endian blobs: exact, compact, and decoded
// without allocation per element.
func encodeVector(v []float32) []byte {
	if len(v) == 0 {
		return nil
	}
	b := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
	}
	return b
}

func decodeVector(b []byte) []float32 {
	if len(b) == 0 {
		return nil
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// scanner is what *sql.Row and *sql.Rows share.
type scanner interface {
	Scan(dest ...any) error
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
