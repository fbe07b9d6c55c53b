DROP TABLE held_deliveries;
