// A site's own script inserting a third-party script later, the way tag managers do.
document.getElementById('insert').addEventListener('click', (e) => {
  const s = document.createElement('script');
  s.src = e.currentTarget.dataset.src;
  document.head.appendChild(s);
});
