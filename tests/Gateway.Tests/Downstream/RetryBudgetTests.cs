using Gateway.Downstream;

namespace Gateway.Tests.Downstream;

public sealed class RetryBudgetTests
{
    [Fact]
    public void TryAcquire_BudgetIsAShareOfCallsInFlight_NeverBelowTheMinimum()
    {
        var budget = new RetryBudget(budgetPercent: 20, minRetryConcurrency: 1);
        for (var i = 0; i < 20; i++)
        {
            budget.EnterCall();
        }

        // 20 % of 20 calls: 4 retries at once, the fifth waits for one to finish.
        Assert.All(Enumerable.Range(0, 4), _ => Assert.True(budget.TryAcquire()));
        Assert.False(budget.TryAcquire());
        budget.Release();
        Assert.True(budget.TryAcquire());
    }

    [Fact]
    public void TryAcquire_FewCalls_MinRetryConcurrencyStillAllowed()
    {
        var budget = new RetryBudget(budgetPercent: 20, minRetryConcurrency: 3);
        budget.EnterCall();
        Assert.True(budget.TryAcquire());
        Assert.True(budget.TryAcquire());
        Assert.True(budget.TryAcquire());
        Assert.False(budget.TryAcquire());
    }
}
