package harness

import "encoding/json"

// Event is one line of a runtime's `events`: runc's types.Event.
type Event struct {
	Type string          `json:"type"`
	ID   string          `json:"id"`
	Data json.RawMessage `json:"data"`
}

// Stats is the part of runc's types.Stats (a stats event's data) the
// suites look at.
type Stats struct {
	CPU struct {
		Usage struct {
			Total uint64 `json:"total"`
		} `json:"usage"`
	} `json:"cpu"`
	Memory struct {
		Usage struct {
			Usage uint64 `json:"usage"`
			Limit uint64 `json:"limit"`
		} `json:"usage"`
	} `json:"memory"`
	Pids struct {
		Current uint64 `json:"current"`
		Limit   uint64 `json:"limit"`
	} `json:"pids"`
	Blkio   json.RawMessage `json:"blkio"`
	Hugetlb json.RawMessage `json:"hugetlb"`
}
