"""Live order pages: the messages the shopper's status page and the merchant's dashboard receive
over the channel layer, and the broadcast that sends them after an order event commits."""
