package catalog

import "encoding/json"

// Clone returns a deep copy of s, through its JSON form: a Snapshot is
// plain data, and JSON is how it is recorded anyway.
func (s *Snapshot) Clone() *Snapshot {
	doc, err := json.Marshal(s)
	if err != nil {
		panic("catalog: clone snapshot: " + err.Error()) // plain data always encodes
	}
	var c Snapshot
	if err := json.Unmarshal(doc, &c); err != nil {
		panic("catalog: clone snapshot: " + err.Error())
	}
	return &c
}

// Sort puts every list of s in the order Load returns it, after a caller
// has added to it.
func (s *Snapshot) Sort() { sortSnapshot(s) }
