-- Deletes every held delivery.
DROP TABLE held_deliveries;
