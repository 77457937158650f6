// Package mapping turns an ActiveDEMAND contact (and, for a message job, the
// message) into the contact HighLevel is sent, by a field mapping that is
// data: a list of links, each one ActiveDEMAND field, one HighLevel field and
// a transform with its parameters.
//
// The distinction a reader must not miss: a mapping is checked twice. Validate
// checks it against the two field catalogs before it is saved, and points at
// the link to fix. Apply runs at job time on a mapping that was valid when
// saved but may not be any more (a field deleted in ActiveDEMAND, a value no
// lookup entry knows): a link that fails is reported and left out, and the
// rest of the contact is still sent, so one bad link never loses a contact.
//
// The mapping is stored through store.FieldMapping, one row per link; the
// transform is text (see Transform.Encode).
package mapping
