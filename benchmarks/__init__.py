"""accord's performance suite: budgets measured as ratios against in-process baselines."""
