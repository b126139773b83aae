// Package domain holds plaint's event types, their decoding from CloudEvents
// JSON and their validation, slugs, money, periods and the one error type,
// Error, whose codes only the HTTP and CLI edges map to statuses and exit
// codes. Everything that accepts events (the ingest, emit, the CSV import,
// the synthetic generator) decodes and validates them here, the same way.
//
// It imports the standard library, github.com/google/uuid and, as the one
// exception, golang.org/x/text/unicode/norm: slugs are brought to Unicode
// normalisation form NFKC, which the standard library does not provide.
//
// # What an event keeps
//
// An Event has canonical fields, the ones plaint understands and projections
// read: the envelope attributes (id, source, type, time in UTC, subject,
// schema version, datacontenttype) and the known data fields of Data, in
// normalised form (slugs, amounts in minor units, upper-case currency). It
// also keeps everything else the producer sent, in AsSent:
//
//   - data fields plaint does not know and extension attributes, any JSON
//     kind, as compact JSON text (numbers keep their exact text: 1.50 stays
//     1.50, 1e400 stays 1e400);
//   - the as-sent text of a known field whose canonical form differs: a slug
//     sent as "Billing / Invoices", an amount sent as the number 12.5, a
//     time with an offset, a key that matched a known field only by case
//     folding ("Category");
//   - an absent marker for a member the canonical rendering has but the
//     producer did not send (a defaulted currency, a key sent in another
//     case).
//
// Event.MarshalJSON renders the canonical fields and lays AsSent over them,
// so that an event Decode returned renders JSON-equal to its message.
// Typical events have nothing in AsSent, so they cost nothing extra to keep.
// Clearing AsSent (ev.AsSent = domain.AsSent{}) keeps only the canonical
// fields; erasing a customer does that, since as-sent members may hold their
// personal data.
//
// The decoder bounds what open fields cost: a member name is at most
// MaxFieldNameLen bytes, an event has at most MaxFields members in its
// envelope and data together, and nests at most MaxDepth levels; beyond that
// it is rejected with reason invalid_field.
//
// # Older schemas
//
// The log keeps every event in the schema version it was sent in. Readers
// bring an event to CurrentSchema with Upcast, which applies the registered
// Upcasters in order: schema 0 complaint.filed carried a free-text topic,
// which CategoryOfTopic maps to a category slug.
package domain
