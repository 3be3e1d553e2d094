package rdns

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func operatorSpecs(t testing.TB) []operatorSpec {
	var file struct {
		Operators []operatorSpec `json:"operators"`
	}
	require.NoError(t, json.Unmarshal(operatorsJSON, &file))
	return file.Operators
}
