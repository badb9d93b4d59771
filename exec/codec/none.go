package codec

import (
	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
)

// noneCodec is the NONE format: a side with no columns. It reads nothing
// and writes a Kafka null.
type noneCodec struct{}

func (noneCodec) Decode(data []byte, bs []array.Builder) error {
	checkBuilders(bs, 0)
	return nil
}

func (noneCodec) Encode(dst []byte, cols []arrow.Array, row int) ([]byte, error) {
	return nil, nil
}
