"""The transactional outbox: domain events written with the change, published to EventBridge after."""
