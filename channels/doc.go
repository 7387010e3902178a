// Package channels is what every customer-facing channel adapter shares:
// webhook signature checks, the ingestion path (one transaction from a parsed
// provider event to a stored message and a turn job), status updates applied
// forward only, provider error classification and the outbox that delivers
// replies through a channel's baton.Sender.
//
// The provider packages (whatsapp, messenger, twilio, webchat) verify and
// parse; everything that touches the store lives here so that every channel
// gets the same guarantees.
package channels
