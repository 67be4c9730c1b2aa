pub struct Ledger; pub struct LedgerReport;
