-- Nothing was changed going up.
SELECT 1;
