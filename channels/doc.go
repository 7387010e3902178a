// Package channels is what every customer-facing channel adapter shares:
// webhook signature checks, the ingestion path (one transaction from a parsed
// provider event to a stored message and a turn job), status updates applied
// forward only, provider error classification and the outbox that delivers
// replies through a channel's baton.Sender.
//
// The provider packages (whatsapp, messenger, twilio, webchat) verify and
// parse; everything that touches the store lives here so that every channel
// gets the same guarantees.
//
// Wiring, as the server does it:
//
//	ing := &channels.Ingester{Store: st, Bots: lookupBot, Clock: clock, Logger: log}
//	webhooks := map[string]baton.WebhookHandler{ // web.Config.Webhooks
//		"whatsapp":  &whatsapp.Handler{Accounts: waAccounts, Ingester: ing},
//		"messenger": &messenger.Handler{Pages: pages, Ingester: ing},
//		"twilio":    &twilio.Handler{Accounts: smsAccounts, Ingester: ing},
//	}
//	deliver := &channels.Deliverer{Store: st, Clock: clock, Logger: log, Senders: map[baton.ChannelKind]baton.Sender{
//		baton.ChannelWhatsApp:  &whatsapp.Sender{Accounts: waAccounts, Clock: clock},
//		baton.ChannelMessenger: &messenger.Sender{Pages: pages, Clock: clock},
//		baton.ChannelSMS:       &twilio.Sender{Accounts: smsAccounts, Clock: clock},
//		baton.ChannelWebChat:   webchat.Sender{},
//	}}
//	pool.Register(baton.JobDeliver, deliver)
//	pool.Register(baton.JobTurn, &bots.Turns{Store: st, Brains: brains})
//
// and the web chat's fiber handlers (webchat.Handler) at GET /chat/:bot,
// POST /chat/:bot/messages and GET /chat/:bot/stream. Twilio's
// StatusCallback should be the bot's own webhook URL
// (<public base>/webhooks/twilio/<bot>): the handler tells status callbacks
// from inbound messages.
package channels
